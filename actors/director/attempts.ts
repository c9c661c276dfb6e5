// What one attempt of a stage runs with. The first attempt uses the plan as written; every
// retry applies the stage's RetryChange once more (compounding), so attempt 3 with
// lrMult 0.5 runs at a quarter of the planned learning rate. Pure; goes into the work input.
import type { RetryChange, StagePlan } from "./plan.js";

export interface AttemptSettings {
  /** 1-based attempt number within the stage. */
  readonly attempt: number;
  /** Attempts this stage may make in all (1 + retry.max). */
  readonly maxAttempts: number;
  readonly steps: number;
  /** Learning rate for this attempt; null for stages that train nothing. */
  readonly lr: number | null;
  readonly seed: number;
  /** The changes applied relative to the plan, for the record ({} on the first attempt). */
  readonly changes: Partial<{ lrScale: number; stepsScale: number; seed: number }>;
}

export function maxAttempts(stage: StagePlan): number {
  return 1 + stage.retry.max;
}

export function attemptSettings(stage: StagePlan, attempt: number, baseSeed: number): AttemptSettings {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  const retries = attempt - 1;
  const change: RetryChange = stage.retry.change;
  const lrScale = change.lrMult ** retries;
  const stepsScale = change.stepsMult ** retries;
  const seed = change.reseed ? baseSeed + retries : baseSeed;
  const changes: AttemptSettings["changes"] = {};
  if (retries > 0) {
    if (lrScale !== 1 && stage.lr !== null) changes.lrScale = lrScale;
    if (stepsScale !== 1) changes.stepsScale = stepsScale;
    if (seed !== baseSeed) changes.seed = seed;
  }
  return {
    attempt,
    maxAttempts: maxAttempts(stage),
    steps: Math.max(1, Math.round(stage.steps * stepsScale)),
    lr: stage.lr === null ? null : stage.lr * lrScale,
    seed,
    changes,
  };
}
