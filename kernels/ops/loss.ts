// Losses: cross-entropy (fused log-softmax, ignore index), KL to a teacher with temperature,
// BCE with logits, MSE, cosine similarity. The reduced value is summed in double precision in
// a fixed order, so it is the same for any thread count.
// Legend: N rows (all leading dims), V classes, C channels, n elements.
import { gradOf, record } from "../autograd/graph.js";
import { IGNORE_INDEX } from "../constants.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor, TensorImpl } from "../tensor/tensor.js";
import { mean, sum } from "./reduce.js";
import { square, sub } from "./elementwise.js";
import { expectF32, expectI32, expectIndices, expectRank, expectSameShape, expectShape, fmt, oneOf, positiveNumber } from "./validate.js";

export type Reduction = "mean" | "sum" | "none";
const reductions: readonly Reduction[] = ["mean", "sum", "none"];

/** Reduces per-row losses[N] to the op's output; returns the output and the backward scale. */
function reduceRows(losses: TensorImpl, reduction: Reduction, count: number): { out: TensorImpl; scale: number } {
  if (reduction === "none") return { out: losses, scale: 1 };
  const d = losses.f32();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  const out = alloc("f32", []);
  const scale = reduction === "mean" ? 1 / count : 1;
  out.f32()[0] = reduction === "mean" ? s / count : s;
  return { out, scale };
}

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (default IGNORE_INDEX = -100). */
  readonly ignoreIndex?: number;
  /** "mean" over the non-ignored targets (default), "sum", or "none" (per position). */
  readonly reduction?: Reduction;
}

/** Cross-entropy of logits [..., V] against class indices targets [...] (i32). */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  const li = expectF32(op, "logits", logits);
  const ti = expectI32(op, "targets", targets);
  expectRank(op, "logits", li, 1, Infinity);
  const V = li.shape[li.shape.length - 1]!;
  expectShape(op, "targets", ti, li.shape.slice(0, -1), `"logits" is ${fmt(li.shape)}`);
  const ignore = options.ignoreIndex ?? IGNORE_INDEX;
  const reduction = oneOf(op, "reduction", options.reduction ?? "mean", reductions);
  expectIndices(op, "targets", ti, V, ignore);
  const N = ti.size;
  let count = 0;
  const td = ti.i32();
  for (let i = 0; i < N; i++) if (td[i] !== ignore) count++;
  const nat = native();
  const losses = alloc("f32", ti.shape);
  const lse = alloc("f32", [N]);
  nat.crossEntropyForward(losses.f32(), lse.f32(), li.f32(), td, N, V, ignore);
  const { out, scale } = reduceRows(losses, reduction, count);
  const stride = reduction === "none" ? 1 : 0;
  return record(op, [li], out, (g) => {
    nat.crossEntropyBackward(gradOf(li).f32(), g.f32(), stride, scale, li.f32(), lse.f32(), td, N, V, ignore);
  });
}

export interface KlOptions {
  /** Softmax temperature T applied to both logits (default 1). */
  readonly temperature?: number;
  /** "mean" over rows (default; PyTorch's batchmean for [N, V]), "sum", or "none" (per row). */
  readonly reduction?: Reduction;
  /** Multiply by T² (the usual distillation scaling, keeps gradient magnitudes). */
  readonly scaleByTemperatureSquared?: boolean;
}

/**
 * KL(softmax(teacher/T) ‖ softmax(student/T)) per row of [..., V] logits. Gradients flow to
 * the student only; the teacher is a target.
 */
export function klDivergence(student: Tensor, teacher: Tensor, options: KlOptions = {}): Tensor {
  const op = "klDivergence";
  const si = expectF32(op, "student", student);
  const ti = expectF32(op, "teacher", teacher);
  expectRank(op, "student", si, 1, Infinity);
  expectSameShape(op, "student", si, "teacher", ti);
  const T = positiveNumber(op, "temperature", options.temperature ?? 1);
  const reduction = oneOf(op, "reduction", options.reduction ?? "mean", reductions);
  const V = si.shape[si.shape.length - 1]!;
  const N = V === 0 ? 0 : si.size / V;
  const nat = native();
  const losses = alloc("f32", si.shape.slice(0, -1));
  nat.klForward(losses.f32(), si.f32(), ti.f32(), N, V, T);
  const factor = options.scaleByTemperatureSquared ? T * T : 1;
  if (factor !== 1) {
    const d = losses.f32();
    for (let i = 0; i < d.length; i++) d[i]! *= factor;
  }
  const { out, scale } = reduceRows(losses, reduction, N);
  const stride = reduction === "none" ? 1 : 0;
  return record(op, [si], out, (g) => {
    nat.klBackward(gradOf(si).f32(), g.f32(), stride, scale * factor, si.f32(), ti.f32(), N, V, T);
  });
}

export interface ReductionOptions {
  readonly reduction?: Reduction;
}

/** Binary cross-entropy of logits against targets in [0, 1] (same shape; no target gradient). */
export function bceWithLogits(logits: Tensor, targets: Tensor, options: ReductionOptions = {}): Tensor {
  const op = "bceWithLogits";
  const li = expectF32(op, "logits", logits);
  const ti = expectF32(op, "targets", targets);
  expectSameShape(op, "logits", li, "targets", ti);
  const reduction = oneOf(op, "reduction", options.reduction ?? "mean", reductions);
  const n = li.size;
  const nat = native();
  const losses = alloc("f32", li.shape);
  nat.bceForward(losses.f32(), li.f32(), ti.f32(), n);
  const { out, scale } = reduceRows(losses, reduction, n);
  const stride = reduction === "none" ? 1 : 0;
  return record(op, [li], out, (g) => {
    nat.bceBackward(gradOf(li).f32(), g.f32(), stride, scale, li.f32(), ti.f32(), n);
  });
}

/** Mean (or sum, or elementwise) squared error; gradients flow to both arguments. */
export function mseLoss(a: Tensor, b: Tensor, options: ReductionOptions = {}): Tensor {
  const op = "mseLoss";
  const ai = expectF32(op, "a", a);
  const bi = expectF32(op, "b", b);
  expectSameShape(op, "a", ai, "b", bi);
  const reduction = oneOf(op, "reduction", options.reduction ?? "mean", reductions);
  const sq = square(sub(ai, bi));
  return reduction === "none" ? sq : reduction === "sum" ? sum(sq) : mean(sq);
}

/** Cosine similarity along the last axis: [..., C] × [..., C] → [...] (norms clamped to eps). */
export function cosineSimilarity(a: Tensor, b: Tensor, eps = 1e-8): Tensor {
  const op = "cosineSimilarity";
  const ai = expectF32(op, "a", a);
  const bi = expectF32(op, "b", b);
  expectRank(op, "a", ai, 1, Infinity);
  expectSameShape(op, "a", ai, "b", bi);
  positiveNumber(op, "eps", eps);
  const C = ai.shape[ai.shape.length - 1]!;
  const N = C === 0 ? 0 : ai.size / C;
  const nat = native();
  const out = alloc("f32", ai.shape.slice(0, -1));
  const saved = alloc("f32", [3 * N]);
  nat.cosineForward(out.f32(), saved.f32(), ai.f32(), bi.f32(), N, C, eps);
  return record(op, [ai, bi], out, (g) => {
    nat.cosineBackward(
      ai.requiresGrad ? gradOf(ai).f32() : null,
      bi.requiresGrad ? gradOf(bi).f32() : null,
      g.f32(), ai.f32(), bi.f32(), saved.f32(), N, C, eps,
    );
  });
}
