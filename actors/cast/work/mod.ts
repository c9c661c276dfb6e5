// StageWork over NATS: what the director's chart calls, per stage. Stage 0 (baseline) and 1
// (domain adapter) have their own work; stages 2-6 share the head-stage work: stage 2 first has
// the oracle label its lanes, each stage trains a heads job on the trainer and is judged on what
// the evaluator (and for stage 5 the transfer actors) measure; stage 6 keeps a rollback point.
import type { StageWork } from "../../director/mod.js";
import { StageRecordError } from "../errors.js";
import { trainAdapterStage } from "./adapter.js";
import { gateAdapterStage } from "./adapter-gate.js";
import { ensureBase } from "./base.js";
import { captureBaseline, recordBaseline } from "./baseline.js";
import type { WorkDeps } from "./deps.js";
import { evaluateHeadsStage } from "./agp-gates.js";
import { trainHeadsStage } from "./heads.js";
import { ensureLabels } from "./labels.js";
import { rollBack, saveRollbackPoint } from "./rollback.js";

export { type WorkDeps, callRole } from "./deps.js";
export { baseDigest, type BaseRecord } from "./base.js";
export { type BaselineRecord, candidateLayers } from "./baseline.js";
export { adapterJobId, checkpointName } from "./adapter.js";
export { type BaselineGate, type BaselineGateInput, judgeBaseline } from "./baseline-gate.js";
export { type ExactMatchComparison, exactMatchEvidence, hitsOf } from "./evidence.js";
export { countAgreement, mergeCounts, splitLayerMap, type SplitLayerMap, type CountsByDomain } from "./split-map.js";
export { type AgpReportJson, agpEvaluation } from "./agp-gates.js";
export { stageCodecs } from "./fidelity.js";
export { type LabelPlan, labelPlan } from "./labels.js";
export { AGP_KEYS, type HeadVerdict, type StageLayers, headsJobId, headsObject, stageLayers } from "./lineage.js";
export type { RollbackPoint, RunWeights } from "./rollback.js";

function notBuilt(what: string): never {
  throw new StageRecordError(`${what} is not built in this version of troupe`);
}

export function createCastWork(deps: WorkDeps): StageWork {
  return {
    async prepare(input, signal) {
      const base = await ensureBase(deps, signal);
      const details = { base: JSON.parse(JSON.stringify(base)) };
      if (input.stage === 2) return { details: { ...details, labels: await ensureLabels(deps, input, signal) } };
      return { details };
    },
    train(input, onProgress, signal) {
      if (input.stage === 0) return captureBaseline(deps, input, onProgress, signal);
      if (input.stage === 1) return trainAdapterStage(deps, input, onProgress, signal);
      if (input.stage >= 2 && input.stage <= 6) return trainHeadsStage(deps, input, onProgress, signal);
      return notBuilt(`training for stage ${input.stage}`);
    },
    evaluate(input, signal) {
      if (input.stage === 0) return recordBaseline(deps, input, signal);
      if (input.stage === 1) return gateAdapterStage(deps, input, signal);
      if (input.stage >= 2 && input.stage <= 6) return evaluateHeadsStage(deps, input, signal);
      return notBuilt(`evaluation for stage ${input.stage}`);
    },
    checkpoint(input) {
      return saveRollbackPoint(deps, input);
    },
    rollback(input) {
      return rollBack(deps, input);
    },
  };
}
