// Loss terms of the heads, on the kernels' autograd:
//   L_route, L_vit   confidence-weighted cross-entropy: Σ c·CE / Σ c, c the oracle's label confidence
//   L_sem            multi-label BCE + λ_l1 · mean activation (L1 of sigmoid outputs: sparsity)
// L_depth and L_transfer sit with their modules (depth.ts, transfer.ts).
// Legend: N positions, K classes, P labels.
import { type Tensor, bceWithLogits, crossEntropy, fromArray, mean, mul, scale, sigmoid, sum, add } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";

/** Σ c_i · CE(logits_i, label_i) / Σ c_i for logits [N, K], labels [N], confidences [N]. */
export function weightedCrossEntropy(logits: Tensor, labels: Int32Array, confidence: Float32Array): Tensor {
  const N = labels.length;
  if (logits.shape.length !== 2 || logits.shape[0] !== N || confidence.length !== N) {
    throw new ModelConfigError("loss.labels", `logits [${logits.shape.join(",")}] do not match ${N} labels and ${confidence.length} confidences`);
  }
  let total = 0;
  for (let i = 0; i < N; i++) {
    const c = confidence[i]!;
    if (!(c >= 0) || !Number.isFinite(c)) throw new ModelConfigError("loss.confidence", `confidence ${c} at ${i} is not a finite number >= 0`);
    total += c;
  }
  if (total <= 0) throw new ModelConfigError("loss.confidence", "every confidence is 0: nothing to learn from");
  const ce = crossEntropy(logits, fromArray(labels, [N]), { reduction: "none" });
  return scale(sum(mul(ce, fromArray(confidence, [N]))), 1 / total);
}

/** BCE over [N, P] multi-hot targets plus l1 × the mean sigmoid activation. */
export function semanticLoss(logits: Tensor, targets: Tensor, l1: number): { loss: Tensor; bce: Tensor; sparsity: Tensor } {
  if (!(l1 >= 0) || !Number.isFinite(l1)) throw new ModelConfigError("semantic.l1", `expected a number >= 0, got ${l1}`);
  const bce = bceWithLogits(logits, targets);
  const sparsity = mean(sigmoid(logits));
  return { loss: l1 > 0 ? add(bce, scale(sparsity, l1)) : bce, bce, sparsity };
}
