// Matrix products: matmul (2-D and batched, with transposes) and linear (x · Wᵀ + b).
// Legend: B batch, M,N,K matrix sizes, C in features, OC out features, R rows (all leading dims).
import { gradOf, gradSlot, record } from "../autograd/graph.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import { expectF32, expectRank, expectShape, fmt } from "./validate.js";
import { ShapeError } from "../errors.js";

export interface MatmulOptions {
  /** Use aᵀ (a stored as [K,M] or [B,K,M]). */
  readonly transA?: boolean;
  /** Use bᵀ (b stored as [N,K] or [B,N,K]). */
  readonly transB?: boolean;
}

/**
 * op(a) · op(b). 2-D: [M,K]·[K,N] → [M,N]. 3-D: [B,M,K]·[B,K,N] → [B,M,N]. A 3-D a with a
 * 2-D b multiplies every batch by the same b ([B,M,K]·[K,N] → [B,M,N]).
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = "matmul";
  const ai = expectF32(op, "a", a);
  const bi = expectF32(op, "b", b);
  expectRank(op, "a", ai, 2, 3);
  expectRank(op, "b", bi, 2, 3);
  const ta = options.transA ?? false;
  const tb = options.transB ?? false;
  const batched = ai.shape.length === 3;
  if (!batched && bi.shape.length === 3) {
    throw new ShapeError({ op, arg: "b" }, `a 2-D "a" ${fmt(ai.shape)} cannot multiply a batched "b" ${fmt(bi.shape)}`);
  }
  const shared = batched && bi.shape.length === 2; // one b for every batch
  if (shared && ta) {
    throw new ShapeError({ op, arg: "a" }, `transA with a shared 2-D "b" is not supported ("a" ${fmt(ai.shape)})`);
  }
  const B = batched ? ai.shape[0]! : 1;
  const [ar, ac] = batched ? [ai.shape[1]!, ai.shape[2]!] : [ai.shape[0]!, ai.shape[1]!];
  const [br, bc] = bi.shape.length === 3 ? [bi.shape[1]!, bi.shape[2]!] : [bi.shape[0]!, bi.shape[1]!];
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const Kb = tb ? bc : br;
  const N = tb ? br : bc;
  if (K !== Kb) {
    throw new ShapeError({ op, arg: "b" }, `inner dimensions differ: op("a") is ${fmt(batched ? [B, M, K] : [M, K])} and op("b") is ${fmt([Kb, N])} ("a" ${fmt(ai.shape)}${ta ? "ᵀ" : ""}, "b" ${fmt(bi.shape)}${tb ? "ᵀ" : ""})`);
  }
  if (bi.shape.length === 3) expectShape(op, "b", bi, [B, null, null], `batch of "a" is ${B}`);
  const nat = native();
  const out = alloc("f32", batched ? [B, M, N] : [M, N]);
  // a shared b: the batch folds into the rows of a
  const fb = shared ? 1 : B;
  const fM = shared ? B * M : M;
  nat.gemm(out.f32(), ai.f32(), bi.f32(), fb, fM, N, K, ta, tb, 1, 0);
  return record(op, [ai, bi], out, (g) => {
    // C = op(A)·op(B): dA = g·op(B)ᵀ (stored per transA), dB = op(A)ᵀ·g (stored per transB)
    if (ai.requiresGrad) {
      if (!ta) nat.gemm(gradOf(ai).f32(), g.f32(), bi.f32(), fb, fM, K, N, false, !tb, 1, 1);
      else nat.gemm(gradOf(ai).f32(), bi.f32(), g.f32(), fb, K, fM, N, tb, true, 1, 1);
    }
    if (bi.requiresGrad) {
      if (!tb) nat.gemm(gradOf(bi).f32(), ai.f32(), g.f32(), fb, K, N, fM, !ta, false, 1, 1);
      else nat.gemm(gradOf(bi).f32(), g.f32(), ai.f32(), fb, N, K, fM, true, ta, 1, 1);
    }
  });
}

/** x[..., C] · weight[OC, C]ᵀ + bias[OC] → [..., OC] (PyTorch's Linear layout). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = "linear";
  const xi = expectF32(op, "x", x);
  const wi = expectF32(op, "weight", weight);
  expectRank(op, "x", xi, 1, Infinity);
  expectRank(op, "weight", wi, 2);
  const C = xi.shape[xi.shape.length - 1]!;
  const OC = wi.shape[0]!;
  expectShape(op, "weight", wi, [null, C], `"x" ${fmt(xi.shape)} has ${C} features`);
  const bi = bias === null ? null : expectF32(op, "bias", bias);
  if (bi) expectShape(op, "bias", bi, [OC], `"weight" ${fmt(wi.shape)} has ${OC} outputs`);
  const R = xi.size / C;
  const nat = native();
  const out = alloc("f32", [...xi.shape.slice(0, -1), OC]);
  nat.linearForward(out.f32(), xi.f32(), wi.f32(), bi ? bi.f32() : null, R, C, OC);
  return record(op, [xi, wi, bi], out, (g) => {
    // a fresh input gradient is written by the GEMM (beta 0) instead of zero-filled first
    const dx = xi.requiresGrad ? gradSlot(xi) : null;
    nat.linearBackward(
      dx ? dx.grad.f32() : null,
      wi.requiresGrad ? gradOf(wi).f32() : null,
      bi && bi.requiresGrad ? gradOf(bi).f32() : null,
      g.f32(), xi.f32(), wi.f32(), R, C, OC, !(dx?.fresh ?? false),
    );
  });
}
