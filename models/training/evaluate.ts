// Evaluation losses: token-weighted mean cross-entropy over fixed batches, in eval mode
// (no dropout) and without recording, so evaluating never changes training's RNG streams.
// Legend: B batch rows, T time.
import type { CausalLM } from "../arch/mod.js";
import { type Tensor, crossEntropy, fromArray, noGrad, workspace } from "../../kernels/mod.js";
import type { TokenBatch } from "../../data/mod.js";

/** (B, T) idx and targets of a data batch as i32 tensors (no copy). */
export function batchTensors(b: TokenBatch): { idx: Tensor; targets: Tensor } {
  return { idx: fromArray(b.idx, [b.B, b.T]), targets: fromArray(b.targets, [b.B, b.T]) };
}

const ws = workspace();

/** Σ CE over every non-ignored target / number of such targets, across all batches. */
export function evalLoss(model: CausalLM, batches: readonly TokenBatch[]): number {
  const wasTraining = model.training;
  model.eval();
  try {
    let sum = 0;
    let tokens = 0;
    for (const b of batches) {
      if (b.tokens === 0) continue;
      const { idx, targets } = batchTensors(b);
      const mean = ws.run(() => noGrad(() => crossEntropy(model.forward(idx), targets).item()));
      sum += mean * b.tokens;
      tokens += b.tokens;
    }
    return tokens === 0 ? NaN : sum / tokens;
  } finally {
    model.train(wasTraining);
  }
}
