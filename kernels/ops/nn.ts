// Neural-network ops: embedding gather, LayerNorm, RMSNorm, softmax, log-softmax, dropout.
// Legend: N rows (all leading dims), C channels, V table rows / classes.
import { gradOf, record } from "../autograd/graph.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import { expectF32, expectI32, expectIndices, expectRank, expectShape, fmt, nonNegativeInt, numberIn, positiveNumber } from "./validate.js";

/** table[V, C] gathered at idx[...] → [..., C]; the backward scatter-adds into the table. */
export function embedding(table: Tensor, idx: Tensor): Tensor {
  const op = "embedding";
  const ti = expectF32(op, "table", table);
  const ii = expectI32(op, "idx", idx);
  expectRank(op, "table", ti, 2);
  const [V, C] = [ti.shape[0]!, ti.shape[1]!];
  expectIndices(op, "idx", ii, V);
  const N = ii.size;
  const nat = native();
  const out = alloc("f32", [...ii.shape, C]);
  nat.embeddingForward(out.f32(), ii.i32(), ti.f32(), N, C, V);
  return record(op, [ti], out, (g) => {
    nat.embeddingBackward(gradOf(ti).f32(), g.f32(), ii.i32(), N, C, V);
  });
}

function normArgs(op: string, x: Tensor, weight: Tensor, eps: number) {
  const xi = expectF32(op, "x", x);
  const wi = expectF32(op, "weight", weight);
  expectRank(op, "x", xi, 1, Infinity);
  const C = xi.shape[xi.shape.length - 1]!;
  expectShape(op, "weight", wi, [C], `"x" ${fmt(xi.shape)} has ${C} channels`);
  positiveNumber(op, "eps", eps);
  return { xi, wi, C, N: xi.size / C };
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const op = "layerNorm";
  const { xi, wi, C, N } = normArgs(op, x, weight, eps);
  const bi = expectF32(op, "bias", bias);
  expectShape(op, "bias", bi, [C], `"x" ${fmt(xi.shape)} has ${C} channels`);
  const nat = native();
  const out = alloc("f32", xi.shape);
  const meanT = alloc("f32", [N]);
  const rstd = alloc("f32", [N]);
  nat.layernormForward(out.f32(), meanT.f32(), rstd.f32(), xi.f32(), wi.f32(), bi.f32(), N, C, eps);
  return record(op, [xi, wi, bi], out, (g) => {
    nat.layernormBackward(
      xi.requiresGrad ? gradOf(xi).f32() : null,
      wi.requiresGrad ? gradOf(wi).f32() : null,
      bi.requiresGrad ? gradOf(bi).f32() : null,
      g.f32(), xi.f32(), wi.f32(), meanT.f32(), rstd.f32(), N, C,
    );
  });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * weight. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const op = "rmsNorm";
  const { xi, wi, C, N } = normArgs(op, x, weight, eps);
  const nat = native();
  const out = alloc("f32", xi.shape);
  const rstd = alloc("f32", [N]);
  nat.rmsnormForward(out.f32(), rstd.f32(), xi.f32(), wi.f32(), N, C, eps);
  return record(op, [xi, wi], out, (g) => {
    nat.rmsnormBackward(
      xi.requiresGrad ? gradOf(xi).f32() : null,
      wi.requiresGrad ? gradOf(wi).f32() : null,
      g.f32(), xi.f32(), wi.f32(), rstd.f32(), N, C,
    );
  });
}

function softmaxOp(op: string, x: Tensor, log: boolean): Tensor {
  const xi = expectF32(op, "x", x);
  expectRank(op, "x", xi, 1, Infinity);
  const V = xi.shape[xi.shape.length - 1]!;
  const N = V === 0 ? 0 : xi.size / V;
  const nat = native();
  const out = alloc("f32", xi.shape);
  nat.softmaxForward(out.f32(), xi.f32(), N, V, log);
  return record(op, [xi], out, (g) => {
    nat.softmaxBackward(gradOf(xi).f32(), g.f32(), out.f32(), N, V, log);
  });
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  return softmaxOp("softmax", x, false);
}

/** Log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  return softmaxOp("logSoftmax", x, true);
}

export interface DropoutOptions {
  /** Seed of the mask; the same (seed, offset) always drops the same elements. */
  readonly seed: number;
  /** Element offset into the mask stream (advance it between calls). Default 0. */
  readonly offset?: number;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p). The mask is a hash
 * of (seed, offset + index): deterministic for any thread count, recomputed in backward.
 * Modules apply it only in training mode.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  const op = "dropout";
  const xi = expectF32(op, "x", x);
  numberIn(op, "p", p, 0, 1);
  const seed = nonNegativeInt(op, "seed", options.seed);
  const offset = nonNegativeInt(op, "offset", options.offset ?? 0);
  if (p === 0) return xi;
  const nat = native();
  const out = alloc("f32", xi.shape);
  nat.dropoutForward(out.f32(), xi.f32(), xi.size, p, seed >>> 0, offset);
  return record(op, [xi], out, (g) => {
    nat.dropoutBackward(gradOf(xi).f32(), g.f32(), xi.size, p, seed >>> 0, offset);
  });
}
