// Stage 1, domain adapter. Training is an `adapter` job on the trainer's queue: LoRA/DoRA on
// the frozen base, on the stage's lane minus any prompt of its eval lane, checkpointed every
// N steps; the trainer's progress stream becomes the director's onProgress (follow.ts). The
// gate is in adapter-gate.ts.
import type { ProgressListener, TrainInput, TrainOutput } from "../../director/mod.js";
import { StageRecordError } from "../errors.js";
import type { StoredCheckpoint, TrainJobBody } from "../messages.js";
import { OBJECT_BUCKETS } from "../records.js";
import { laneOf } from "../spec.js";
import { ensureBase } from "./base.js";
import type { WorkDeps } from "./deps.js";
import { runFollowedJob } from "./follow.js";

export const adapterJobId = (stage: number, attempt: number) => `s${stage}-a${attempt}`;

/** "checkpoints:<run>/s1-a1/step-00000400": how a checkpoint is named in the run record. */
export function checkpointName(ref: StoredCheckpoint): string {
  return `${ref.bucket}:${ref.run}/${ref.stage}/${ref.kind}-${String(ref.step).padStart(8, "0")}`;
}

export async function trainAdapterStage(deps: WorkDeps, input: TrainInput, onProgress: ProgressListener, signal: AbortSignal): Promise<TrainOutput> {
  const base = await ensureBase(deps, signal);
  const lane = laneOf(deps.spec, input.plan.lane, `stage ${input.stage}`).name;
  const evalLane = input.plan.evalLane ? laneOf(deps.spec, input.plan.evalLane, `stage ${input.stage}`).name : undefined;
  if (input.attempt.lr === null) throw new StageRecordError(`stage ${input.stage} has no learning rate`);
  const jobId = adapterJobId(input.stage, input.attempt.attempt);
  const steps = input.attempt.steps;
  const job: TrainJobBody = {
    jobId,
    kind: "adapter",
    stage: input.stage,
    attempt: input.attempt.attempt,
    lane,
    ...(evalLane ? { evalLane } : {}),
    steps,
    lr: input.attempt.lr,
    batch: input.plan.batch,
    warmup: Math.min(50, Math.floor(steps / 10)),
    seed: input.attempt.seed,
    checkpointEvery: deps.spec.checkpointEvery,
    checkpoints: { bucket: OBJECT_BUCKETS.checkpoints, run: deps.runId, stage: jobId },
    base: base.ref,
  };
  const s = await runFollowedJob(deps, input, job, onProgress, signal);
  const r = s.result!;
  return { steps: r.steps, losses: { sft: r.trainLoss, total: r.trainLoss }, checkpoint: checkpointName(r.final) };
}
