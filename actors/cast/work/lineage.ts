// Which weights a head stage starts from, and the layers it works at. The stage model is the
// stage-1 adapter's final checkpoint (the base when the scenario has no stage 1); each head
// stage starts from the weights the closest earlier head stage left — its last attempt, the one
// that passed, since the director only moves on after a pass — except a stage 4 that ended off
// the critical path, whose semantic head is left out. Every attempt of a stage starts from the
// same weights, so a retry (and stage 6 after a roll back) never builds on a failed attempt.
// Layers: a scenario names blocks; the models layer takes residual-stream indices (block b is
// index b + 1).
import { type StageId, type StagePlan, maxAttempts } from "../../director/mod.js";
import type { Weights } from "../agp-messages.js";
import { StageRecordError } from "../errors.js";
import type { JobState } from "../jobs.js";
import type { StoredCheckpoint } from "../messages.js";
import { BUCKETS, RUN_KEYS, openBucket } from "../records.js";
import { adapterJobId } from "./adapter.js";
import type { BaseRecord } from "./base.js";
import { candidateLayers } from "./baseline.js";
import type { WorkDeps } from "./deps.js";

export const headsJobId = (stage: number, attempt: number): string => `s${stage}-a${attempt}-heads`;
export const headsObject = (stage: number, attempt: number): string => `s${stage}-a${attempt}.heads.safetensors`;

/** What the director keeps about a head stage's attempt (KV bucket agp, key verdict.s<stage>.a<attempt>). */
export interface HeadVerdict {
  readonly stage: number;
  readonly attempt: number;
  /** stage 4: stable but not improving — its head stays off the critical path */
  readonly offPath: boolean;
}

export const AGP_KEYS = {
  verdict: (stage: number, attempt: number) => `verdict.s${stage}.a${attempt}`,
  /** the weights the run stands on after stage 6 (its output, or the stage-5 weights after a roll back) */
  weights: "weights",
  /** stage 6's rollback point */
  rollback: "rollback",
} as const;

export function openAgp<T>(deps: WorkDeps) {
  return openBucket<T>(deps.nc, deps.runId, BUCKETS.agp);
}

/** The residual indices a stage works at (see the head of this file). */
export interface StageLayers {
  readonly candidates: number[];
  readonly headLayers: number[];
  readonly depthLayers: number[];
  readonly semanticLayer: number | null;
  readonly splitLayers: number[];
}

export function stageLayers(deps: WorkDeps): StageLayers {
  const L = deps.spec.model.nLayer;
  const plan = (s: StageId) => deps.spec.curriculum.stages.find((p) => p.stage === s);
  const idx = (blocks: readonly number[]) => [...new Set(blocks.map((b) => b + 1))].filter((i) => i >= 1 && i <= L - 1).sort((a, b) => a - b);
  const candidates = idx(candidateLayers(plan(0)?.layers ?? [], L));
  if (candidates.length === 0) throw new StageRecordError(`no candidate layer below the last block (the model has ${L} blocks): stages 2-6 need one`);
  const given = (s: StageId) => (plan(s)?.layers.length ? idx(plan(s)!.layers) : null);
  const headLayers = (given(2) ?? candidates).filter((l) => candidates.includes(l));
  if (headLayers.length === 0) throw new StageRecordError(`stage 2's head layers must be candidate layers (after blocks ${candidates.map((c) => c - 1).join(", ")})`);
  return {
    candidates,
    headLayers,
    depthLayers: given(3) ?? headLayers,
    semanticLayer: (given(4) ?? headLayers)[0] ?? null,
    splitLayers: given(5) ?? candidates,
  };
}

/** The last attempt's finished job of a stage (attempts counted down from the plan's budget). */
async function lastDone(deps: WorkDeps, stage: StageId, id: (attempt: number) => string): Promise<JobState | null> {
  const plan = deps.spec.curriculum.stages.find((p) => p.stage === stage);
  for (let a = plan ? maxAttempts(plan) : 1; a >= 1; a--) {
    const s = (await deps.jobs.get(id(a)))?.value;
    if (s?.state === "done" && s.result) return s;
  }
  return null;
}

/** The stage model: stage 1's final adapter checkpoint, else the base. */
export async function stageModel(deps: WorkDeps): Promise<StoredCheckpoint> {
  if (deps.spec.curriculum.stages.some((p) => p.stage === 1)) {
    const s1 = await lastDone(deps, 1, (a) => adapterJobId(1, a));
    if (!s1?.result) throw new StageRecordError("stage 1 has no finished adapter job: the head stages need its model");
    return s1.result.final;
  }
  const base = await deps.record.get<BaseRecord>(RUN_KEYS.base);
  if (!base) throw new StageRecordError("no base checkpoint recorded; stage 0 prepares it");
  return base.ref;
}

/** The weights `stage` starts from (see the head of this file). */
export async function weightsBefore(deps: WorkDeps, stage: StageId): Promise<Weights> {
  const model = await stageModel(deps);
  const agp = await openAgp<HeadVerdict>(deps);
  for (let s = stage - 1; s >= 2; s--) {
    if (!deps.spec.curriculum.stages.some((p: StagePlan) => p.stage === s)) continue;
    const job = await lastDone(deps, s as StageId, (a) => headsJobId(s, a));
    if (!job?.result?.heads) continue;
    const verdict = (await agp.get(AGP_KEYS.verdict(s, job.attempt)))?.value;
    if (verdict?.offPath) continue; // off the critical path: what came before it
    return { model, ...(job.result.adapter ? { adapter: job.result.adapter } : {}), heads: job.result.heads };
  }
  return { model };
}

/** The weights an attempt's training left. */
export async function weightsAfter(deps: WorkDeps, stage: number, attempt: number): Promise<Weights> {
  const job = (await deps.jobs.get(headsJobId(stage, attempt)))?.value;
  if (!job?.result?.heads) throw new StageRecordError(`job ${headsJobId(stage, attempt)} has no result in KV; the stage's training did not finish`);
  return { model: job.result.final, ...(job.result.adapter ? { adapter: job.result.adapter } : {}), heads: job.result.heads };
}
