// Learning-rate schedules: functions from the 0-based update index to a learning rate.
import { nonNegativeInt, nonNegativeNumber, positiveInt } from "../ops/validate.js";

export interface CosineWarmupOptions {
  readonly maxLr: number;
  readonly minLr?: number;
  /** Updates of linear warm-up from maxLr/warmupSteps to maxLr. */
  readonly warmupSteps: number;
  /** The update at which the cosine reaches minLr (stays there afterwards). */
  readonly totalSteps: number;
}

/** Linear warm-up, then a half cosine from maxLr down to minLr. */
export function cosineWithWarmup(options: CosineWarmupOptions): (step: number) => number {
  const op = "cosineWithWarmup";
  const maxLr = nonNegativeNumber(op, "maxLr", options.maxLr);
  const minLr = nonNegativeNumber(op, "minLr", options.minLr ?? 0);
  const warmup = nonNegativeInt(op, "warmupSteps", options.warmupSteps);
  const total = positiveInt(op, "totalSteps", options.totalSteps);
  return (step: number) => {
    nonNegativeInt(op, "step", step);
    if (step < warmup) return (maxLr * (step + 1)) / warmup;
    if (step >= total) return minLr;
    const progress = (step - warmup) / Math.max(1, total - warmup);
    return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
