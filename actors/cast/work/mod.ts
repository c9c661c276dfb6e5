// StageWork over NATS: what the director's chart calls, per stage. Stages 0 and 1 are built;
// anything else is refused (the director stops at an unavailable stage before calling it).
import type { StageWork } from "../../director/mod.js";
import { StageRecordError } from "../errors.js";
import { trainAdapterStage } from "./adapter.js";
import { gateAdapterStage } from "./adapter-gate.js";
import { ensureBase } from "./base.js";
import { captureBaseline, recordBaseline } from "./baseline.js";
import type { WorkDeps } from "./deps.js";

export { type WorkDeps, callRole } from "./deps.js";
export { baseDigest, type BaseRecord } from "./base.js";
export { type BaselineRecord, candidateLayers } from "./baseline.js";
export { adapterJobId, checkpointName } from "./adapter.js";
export { type BaselineGate, type BaselineGateInput, judgeBaseline } from "./baseline-gate.js";
export { type ExactMatchComparison, exactMatchEvidence, hitsOf } from "./evidence.js";
export { countAgreement, mergeCounts, splitLayerMap, type SplitLayerMap, type CountsByDomain } from "./split-map.js";

function notBuilt(what: string): never {
  throw new StageRecordError(`${what} is not built in this version of troupe`);
}

export function createCastWork(deps: WorkDeps): StageWork {
  return {
    async prepare(input, signal) {
      const base = await ensureBase(deps, signal);
      return { details: { base: JSON.parse(JSON.stringify(base)) } };
    },
    train(input, onProgress, signal) {
      if (input.stage === 0) return captureBaseline(deps, input, onProgress, signal);
      if (input.stage === 1) return trainAdapterStage(deps, input, onProgress, signal);
      return notBuilt(`training for stage ${input.stage}`);
    },
    evaluate(input, signal) {
      if (input.stage === 0) return recordBaseline(deps, input, signal);
      if (input.stage === 1) return gateAdapterStage(deps, input, signal);
      return notBuilt(`evaluation for stage ${input.stage}`);
    },
    async checkpoint() {
      return notBuilt("the stage-6 rollback checkpoint");
    },
    async rollback() {
      return notBuilt("rollback");
    },
  };
}
