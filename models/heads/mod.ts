// The AGP heads (stages 2-6): route and vitality classifiers, the depth-routing residual, the
// semantic projection with its weak labeler, the transfer adapter; their losses, metrics,
// baselines, and the registry that saves and rebuilds a head set.
export { CLASSIFIER_KINDS, ClassifierHead, type ClassifierKind, type ClassifierSpec } from "./classifier.js";
export { DepthResidual, type DepthLossOptions, type DepthSpec, depthLoss } from "./depth.js";
export { DEFAULT_TRANSFER_WEIGHTS, LATENT_BITS, type LatentBits, TransferAdapter, type TransferLossParts, type TransferLossWeights, type TransferSpec, learnedBytesPerToken, roundF16, transferLoss } from "./transfer.js";
export { STATS, STAT_FEATURES, headInput, matrix, statFeatures } from "./features.js";
export { semanticLoss, weightedCrossEntropy } from "./losses.js";
export { type Calibration, type ClassScores, type MultiLabelScores, argmaxOf, auroc, classScores, expectedCalibrationError, multiLabelScores, softmaxRows } from "./metrics.js";
export { type FittedBaseline, fitEntropyRouting, majorityClass } from "./baselines.js";
export { type LabelInput, STEP_INVARIANTS, STEP_PRIMITIVES, STEP_VOCABULARY, type WeakLabeler, exampleLabeler, ruleLabeler } from "./weak-labels.js";
export {
  HEADS_MAGIC, HEADS_VERSION, type Head, type HeadKind, type HeadSet, type HeadSpec, addHead, createHead, headAt, headKey, headKinds, headParameters, headsOf,
  parseHeads, registerHeadKind, restoreParams, serializeHeads, snapshotParams,
} from "./registry.js";
