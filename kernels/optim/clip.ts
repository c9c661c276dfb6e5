// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ with the 2-norm).
import { native } from "../native/load.js";
import { UnaryOp } from "../ops/codes.js";
import { positiveNumber } from "../ops/validate.js";
import type { Tensor } from "../tensor/tensor.js";
import { type NamedParams, gradFor, namedList } from "./params.js";

/**
 * Scales every gradient by maxNorm / (norm + 1e-6) when the global 2-norm exceeds maxNorm.
 * Returns the norm before clipping. The norm is summed in double precision in a fixed order.
 */
export function clipGradNorm(params: NamedParams | readonly Tensor[], maxNorm: number): number {
  positiveNumber("clipGradNorm", "maxNorm", maxNorm);
  const tensors: Tensor[] = Array.isArray(params) && (params.length === 0 || !Array.isArray(params[0]))
    ? (params as Tensor[])
    : namedList("clipGradNorm", params as NamedParams).map(([, t]) => t);
  const nat = native();
  let total = 0;
  for (const t of tensors) {
    const g = gradFor("clipGradNorm", t.name ?? "parameter", t);
    if (g) total += nat.sumSquares(g, g.length);
  }
  const norm = Math.sqrt(total);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const t of tensors) {
      const g = gradFor("clipGradNorm", t.name ?? "parameter", t);
      if (g) nat.unaryForward(g, g, g.length, UnaryOp.scale, coef);
    }
  }
  return norm;
}
