// The optimizer interface shared by AdamW/Adam and SGD. State tensors are exposed by name for
// checkpoints: "<kind>.<param name>" (e.g. "exp_avg.h.0.qkv.weight", "step.wte.weight").
import type { Tensor } from "../tensor/tensor.js";

export interface Optimizer {
  /** Applies one update to every parameter that requires grad and has a gradient. */
  step(): void;
  /** Zeroes every parameter's gradient (keeps the buffers). */
  zeroGrad(): void;
  /** The learning rate of the next step (set it from a schedule). */
  lr: number;
  /** Named state tensors (the live buffers, not copies). */
  stateDict(): Map<string, Tensor>;
  /** Copies state tensors in (names and shapes must match). */
  loadStateDict(state: ReadonlyMap<string, Tensor>): void;
}

export function zeroGrads(params: readonly (readonly [string, Tensor])[]): void {
  for (const [, t] of params) if (t.grad) (t.grad.data as Float32Array).fill(0);
}
