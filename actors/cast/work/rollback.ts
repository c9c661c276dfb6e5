// Stage 6's rollback point. Every head stage writes new objects (its head set, and stage 6 the
// adapter's parameters) and never overwrites one, so the weights before the joint finetune —
// the stage-5 weights — stay in the run's buckets whatever stage 6 does. The checkpoint records
// which they are (KV agp/rollback) and checks they are all there; a rollback checks them again
// and records them as the weights the run stands on (KV agp/weights), which the report and
// `troupe status` show. Every attempt of stage 6 starts from the stage-5 weights (lineage.ts),
// so a retry after a roll back never builds on the failed finetune.
import type { CheckpointInput, CheckpointOutput, RollbackInput } from "../../director/mod.js";
import type { Weights } from "../agp-messages.js";
import { openHeads } from "../agp-models.js";
import { StageRecordError } from "../errors.js";
import type { WorkDeps } from "./deps.js";
import { AGP_KEYS, openAgp, weightsBefore } from "./lineage.js";

export interface RollbackPoint {
  readonly id: string;
  readonly weights: Weights;
  readonly at: number;
}

export interface RunWeights {
  readonly weights: Weights;
  readonly why: string;
}

const idOf = (w: Weights) => w.heads ?? `${w.model.stage}/step-${w.model.step}`;

async function present(deps: WorkDeps, w: Weights): Promise<void> {
  const heads = await openHeads(deps.nc, deps.runId);
  for (const name of [w.heads, w.adapter]) {
    if (name && !(await heads.info(name))) throw new StageRecordError(`${name} is not in the run's heads bucket`);
  }
}

export async function saveRollbackPoint(deps: WorkDeps, input: CheckpointInput): Promise<CheckpointOutput> {
  const w = await weightsBefore(deps, input.stage);
  await present(deps, w);
  const agp = await openAgp<RollbackPoint>(deps);
  const point: RollbackPoint = { id: idOf(w), weights: w, at: Date.now() };
  await agp.put(AGP_KEYS.rollback, point);
  return { checkpointId: point.id };
}

export async function rollBack(deps: WorkDeps, input: RollbackInput): Promise<void> {
  const agp = await openAgp<RollbackPoint | RunWeights>(deps);
  const point = (await agp.get(AGP_KEYS.rollback))?.value as RollbackPoint | undefined;
  if (!point || point.id !== input.checkpointId) throw new StageRecordError(`no rollback point ${input.checkpointId} recorded for stage ${input.stage}`);
  await present(deps, point.weights);
  await agp.put(AGP_KEYS.weights, { weights: point.weights, why: `stage ${input.stage} attempt ${input.attempt} did not improve: rolled back to ${point.id}` });
}
