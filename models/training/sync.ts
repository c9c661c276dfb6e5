// Data-parallel training as the trainer loop sees it: a gradient sync, given by hosts/thunder
// (models/ knows nothing of links). The loop without one is the single-host loop, unchanged.
//
// With a sync each rank backpropagates the SUM of its token losses (not their mean), then
// reduce() sums gradients, token counts and loss sums over the group and divides the gradients
// by the total token count. So the update is the gradient of the mean loss over every
// non-ignored target of the combined batch — single-host training on the combined batch —
// however unequally the ranks' targets are masked or padded. Clipping, the NaN guard and the
// optimizer then see identical gradients on every rank and make the identical update.
import type { Tensor } from "../../kernels/mod.js";

export interface StepTotals {
  /** non-ignored targets */
  readonly tokens: number;
  /** Σ of their cross-entropies */
  readonly lossSum: number;
}

export interface GradientSync {
  readonly rank: number;
  readonly world: number;
  /**
   * Called once with the trainable parameters before the first step. The sync may give each
   * parameter a gradient buffer of its own (a view of one flat buffer it can send whole).
   */
  attach(params: readonly (readonly [string, Tensor])[]): void;
  /**
   * After this rank's backward of a step: makes every parameter's gradient the group's
   * Σ gradient / Σ tokens, and returns the group's totals. Rejects (typically a GroupError from
   * hosts) when a rank is lost; the loop rethrows it.
   */
  reduce(local: StepTotals): Promise<StepTotals>;
  /**
   * Optional overlap with the backward pass: called for each parameter as soon as its gradient
   * is final in the step's last backward (the sync may start sending it while backward goes on).
   */
  readonly onGradReady?: (param: Tensor) => void;
  /** Called before the step's last backward (where onGradReady will fire). */
  beginBackward?(): void;
}
