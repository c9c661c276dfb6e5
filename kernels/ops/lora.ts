// A LoRA-adapted Linear as one op: y = x · Wᵀ + b + s · (xa · Aᵀ) · Bᵀ, with W f32 or block-
// quantised (QLoRA's frozen base, ops/quant.ts) and xa = x unless the adapter path has its own
// input (dropout). The adapter's product is accumulated into the base's output by the GEMM
// (beta 1), so the only tensors kept per call are y and h = xa · Aᵀ [N, r]; the composed form
// (linear, linear, scale, add) keeps four [N, OC] tensors forward and allocates as many
// gradients backward. Backward: dB += s·gᵀh, dh = s·g·B, dA += dhᵀ·xa, dxa += dh·A, and the
// base's dx (and dW when W is trainable) as linear/qlinear give them.
// Legend: N rows (all leading dims), C in features, OC out features, r rank.
import { gradOf, gradSlot, record } from "../autograd/graph.js";
import { ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import type { QuantizedWeight } from "./quant.js";
import { expectF32, expectRank, expectShape, finiteNumber, fmt } from "./validate.js";

export function loraLinear(x: Tensor, weight: Tensor | QuantizedWeight, bias: Tensor | null, A: Tensor, B: Tensor, scaling: number, xa: Tensor = x): Tensor {
  const op = "loraLinear";
  const xi = expectF32(op, "x", x);
  expectRank(op, "x", xi, 1, Infinity);
  const C = xi.shape[xi.shape.length - 1]!;
  const quant = !("dtype" in weight) ? weight : null;
  const wi = quant ? null : expectF32(op, "weight", weight);
  if (wi) expectRank(op, "weight", wi, 2);
  const OC = quant ? quant.rows : wi!.shape[0]!;
  const wc = quant ? quant.cols : wi!.shape[1]!;
  if (wc !== C) throw new ShapeError({ op, arg: "x" }, `Expected "x" ${fmt(xi.shape)} to have ${wc} features (the weight is [${OC}, ${wc}])`);
  const bi = bias === null ? null : expectF32(op, "bias", bias);
  if (bi) expectShape(op, "bias", bi, [OC], `the weight has ${OC} outputs`);
  const ai = expectF32(op, "A", A);
  expectRank(op, "A", ai, 2);
  const r = ai.shape[0]!;
  expectShape(op, "A", ai, [r, C], `"x" has ${C} features`);
  const Bi = expectF32(op, "B", B);
  expectShape(op, "B", Bi, [OC, r], `the weight has ${OC} outputs and "A" rank ${r}`);
  const xai = xa === x ? xi : expectF32(op, "xa", xa);
  if (xai !== xi) expectShape(op, "xa", xai, xi.shape, `"xa" is the adapter's input in place of "x"`);
  const s = finiteNumber(op, "scaling", scaling);
  const N = xi.size / C;
  const nat = native();
  const out = alloc("f32", [...xi.shape.slice(0, -1), OC]);
  if (quant) {
    nat.qlinearForward(out.f32(), xi.f32(), quant.q, quant.scale, N, C, OC, quant.bits);
    if (bi) nat.rowwiseForward(out.f32(), out.f32(), bi.f32(), N, OC, 0);
  } else {
    nat.linearForward(out.f32(), xi.f32(), wi!.f32(), bi ? bi.f32() : null, N, C, OC);
  }
  const h = alloc("f32", [N, r]);
  nat.gemm(h.f32(), xai.f32(), ai.f32(), 1, N, r, C, false, true, 1, 0);
  nat.gemm(out.f32(), h.f32(), Bi.f32(), 1, N, OC, r, false, true, s, 1);
  return record(op, [xi, xai === xi ? null : xai, wi, bi, ai, Bi], out, (g) => {
    if (Bi.requiresGrad) nat.gemm(gradOf(Bi).f32(), g.f32(), h.f32(), 1, OC, r, N, true, false, s, 1);
    if (xi.requiresGrad) {
      if (quant) nat.qlinearBackward(gradOf(xi).f32(), g.f32(), quant.q, quant.scale, N, C, OC, quant.bits);
      else {
        const dx = gradSlot(xi);
        nat.linearBackward(dx.grad.f32(), null, null, g.f32(), xi.f32(), wi!.f32(), N, C, OC, !dx.fresh);
      }
    }
    if (wi && (wi.requiresGrad || bi?.requiresGrad)) {
      nat.linearBackward(null, wi.requiresGrad ? gradOf(wi).f32() : null, bi?.requiresGrad ? gradOf(bi).f32() : null, g.f32(), xi.f32(), wi.f32(), N, C, OC, true);
    } else if (bi?.requiresGrad) {
      nat.rowwiseBackward(null, gradOf(bi).f32(), g.f32(), g.f32(), bi.f32(), N, OC, 0);
    }
    if (!ai.requiresGrad && !xai.requiresGrad) return;
    const dh = alloc("f32", [N, r]);
    nat.gemm(dh.f32(), g.f32(), Bi.f32(), 1, N, r, OC, false, false, s, 0);
    if (ai.requiresGrad) nat.gemm(gradOf(ai).f32(), dh.f32(), xai.f32(), 1, r, C, N, true, false, 1, 1);
    if (xai.requiresGrad) nat.gemm(gradOf(xai).f32(), dh.f32(), ai.f32(), 1, N, C, r, false, false, 1, 1);
  });
}
