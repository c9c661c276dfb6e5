// The library tasks of curriculum stages 2-6 (the director's work units call them), and what
// the curriculum bought: routed inference against full depth.
export { AGP_TERMS, type PerItem, type AgpBatch, type AgpData, type AgpItem, type AgpProgress, type AgpRunOptions, type AgpTerm, type GateReport, type LambdaFn, type Scored, batchesOf, fullWeight, gateReport, makeBatch, withFrozen, withFrozenSync } from "./common.js";
export { type FitOptions, type FitResult, type StepLoss, fit } from "./fit.js";
export { type ExternalLabels, type LabelOptions, type LabelledTokens, labelItems } from "./labelled.js";
export { type ClassKind, type ClassifierTrainOptions, type RouteEvalOptions, type RouteStageOptions, type RouteStageResult, classProbs, evaluateRouteVitality, trainClassifiers, trainRouteVitality } from "./route.js";
export { type DepthEvalOptions, type DepthStageOptions, depthDecoder, evaluateDepthResiduals, trainDepthResiduals } from "./depth.js";
export { type SemanticEvalOptions, type SemanticStageOptions, type Stability, activationStability, evaluateSemantic, semanticActivations, trainSemantic, weakLabels } from "./semantic.js";
export { type TransferEvalOptions, type TransferGateInput, type TransferStageOptions, constantStateKl, eighthLatent, evaluateTransfer, trainTransfer, transferGate } from "./transfer.js";
export { contextWidth, headContext, inputOf } from "./context.js";
export { type ArchitectureReport, type DecodeOptions, type DecodeRun, type RouterConfig, decode, measureRouted } from "./routed.js";
export { type CalibrateOptions, type CalibrationPoint, type ExactMatchCalibration, THRESHOLD_GRID, calibrateRouter, routerForExactMatch } from "./calibrate.js";
export { type JointEvalOptions, type JointRunResult, type JointStageOptions, evaluateJoint, jointEmBudget, jointParameters, promptQualityPerCompute, qualityPerCompute, runJointStage, trainJoint } from "./joint.js";
