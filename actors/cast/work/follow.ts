// Running a stage job and following its progress: the job goes on the trainer's queue (a no-op
// if it is there already: a resumed director), its per-step losses come from the run's progress
// stream — every term of the composite loss when the job reports them — and the director hears
// what it has not seen yet: what a resumed director missed is put on the loss curve without
// telling the chart again.
import { LOSS_TERMS, type LossValues, type ProgressListener, type TrainInput } from "../../director/mod.js";
import { type JobState, runJob } from "../jobs.js";
import type { TrainJobBody, TrainProgressBody } from "../messages.js";
import { followProgress } from "../progress.js";
import { type WorkDeps, jobOptions } from "./deps.js";

type Point = TrainProgressBody["points"][number];

/** A progress point's losses as the director records them: the terms of L and the total. */
export function lossesOf(p: Point): LossValues {
  if (!p.losses) return { sft: p.loss, total: p.loss };
  const out: LossValues = {};
  for (const k of [...LOSS_TERMS, "total"] as const) {
    const v = p.losses[k];
    if (typeof v === "number") out[k] = v;
  }
  if (out.total === undefined) out.total = p.loss;
  return out;
}

export async function runFollowedJob(deps: WorkDeps, input: TrainInput, job: TrainJobBody, onProgress: ProgressListener, signal: AbortSignal): Promise<JobState> {
  const { stage } = input;
  const attempt = input.attempt.attempt;
  let seen = deps.curve.recordedStep(stage, attempt);
  const chartAt = deps.curve.chartStep(stage, attempt);
  const following = new AbortController();
  const follower = followProgress(deps.nc, deps.runId, job.jobId, seen, (pt) => {
    seen = pt.step;
    if (pt.step <= chartAt) deps.curve.record(stage, attempt, pt.step, lossesOf(pt));
    else onProgress({ step: pt.step, losses: lossesOf(pt) });
  }, following.signal).catch((err: Error) => deps.log.warn({ err: err.message, jobId: job.jobId }, "cannot follow the job's progress"));
  try {
    const s = await runJob(deps.queue, deps.jobs, job, jobOptions(deps, signal));
    const steps = s.result?.steps ?? job.steps;
    // the trainer stored its last progress before the job's result: read up to it
    const until = Date.now() + 3000;
    while (seen < steps && Date.now() < until && !signal.aborted) await new Promise((res) => setTimeout(res, 20));
    return s;
  } finally {
    following.abort();
    await follower;
  }
}
