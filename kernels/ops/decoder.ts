// The ops of Llama-family decoders: rotary position embeddings (Hugging Face's rotate_half
// convention), the SwiGLU gate, grouped-query causal attention for training, and the same
// attention against a KV cache for decoding (inference only).
// Legend: B batch, T time, N rows (B*T), H query heads, KV key/value heads, hs head size,
// h2 = hs/2, P positions of the rotary tables, S cache capacity, Tq/Tk query/key rows.
import { gradOf, isGradEnabled, record } from "../autograd/graph.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import { expectF32, expectI32, expectRank, expectSameShape, fmt, positiveInt } from "./validate.js";

/**
 * Rotates each head of x [..., H*hs] by the angles of its row's position: for i < h2,
 * out[i] = x[i]·cos − x[i+h2]·sin and out[i+h2] = x[i+h2]·cos + x[i]·sin, with cos/sin read
 * from the tables [P, h2] at positions [...] (i32, one per row of x).
 */
export function rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, heads: number): Tensor {
  const op = "rope";
  const xi = expectF32(op, "x", x);
  const pi = expectI32(op, "positions", positions);
  const ci = expectF32(op, "cos", cos);
  const si = expectF32(op, "sin", sin);
  expectRank(op, "x", xi, 1, Infinity);
  const H = positiveInt(op, "heads", heads);
  const C = xi.shape[xi.shape.length - 1]!;
  if (C % H !== 0 || (C / H) % 2 !== 0) {
    throw new ShapeError({ op, arg: "x" }, `Expected the last dimension of "x" ${fmt(xi.shape)} to be heads (${H}) * an even head size`);
  }
  const hs = C / H;
  const N = xi.size / C;
  if (pi.size !== N) throw new ShapeError({ op, arg: "positions" }, `Expected one position per row of "x" ${fmt(xi.shape)} (${N}), got ${fmt(pi.shape)}`);
  expectRank(op, "cos", ci, 2);
  expectSameShape(op, "cos", ci, "sin", si);
  if (ci.shape[1] !== hs / 2) throw new ShapeError({ op, arg: "cos" }, `Expected "cos" to be [P, ${hs / 2}] (half the head size ${hs}), got ${fmt(ci.shape)}`);
  const P = ci.shape[0]!;
  const pos = pi.i32();
  for (let i = 0; i < N; i++) {
    if (pos[i]! < 0 || pos[i]! >= P) throw new ArgumentError({ op, arg: "positions" }, `Expected "positions" in [0, ${P}) (the rotary tables' length), got ${pos[i]} at row ${i}`);
  }
  const nat = native();
  const out = alloc("f32", xi.shape);
  nat.ropeForward(out.f32(), xi.f32(), pos, ci.f32(), si.f32(), N, H, hs, P);
  return record(op, [xi], out, (g) => {
    nat.ropeBackward(gradOf(xi).f32(), g.f32(), pos, ci.f32(), si.f32(), N, H, hs, P);
  });
}

/** silu(gate) * up, elementwise (the SwiGLU MLP's gate). */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  const op = "swiglu";
  const gi = expectF32(op, "gate", gate);
  const ui = expectF32(op, "up", up);
  expectSameShape(op, "gate", gi, "up", ui);
  const nat = native();
  const out = alloc("f32", gi.shape);
  nat.swigluForward(out.f32(), gi.f32(), ui.f32(), gi.size);
  return record(op, [gi, ui], out, (g) => {
    nat.swigluBackward(gi.requiresGrad ? gradOf(gi).f32() : null, ui.requiresGrad ? gradOf(ui).f32() : null, g.f32(), gi.f32(), ui.f32(), gi.size);
  });
}

function headSizes(op: string, q: Tensor, kvWidth: number, heads: number, kvHeads: number): { H: number; KV: number; hs: number } {
  const H = positiveInt(op, "heads", heads);
  const KV = positiveInt(op, "kvHeads", kvHeads);
  if (H % KV !== 0) throw new ArgumentError({ op, arg: "kvHeads" }, `Expected "heads" (${H}) to be a multiple of "kvHeads" (${KV})`);
  const C = q.shape[2]!;
  if (C % H !== 0) throw new ShapeError({ op, arg: "q" }, `Expected the last dimension of "q" ${fmt(q.shape)} to be a multiple of heads (${H})`);
  const hs = C / H;
  if (kvWidth !== KV * hs) throw new ShapeError({ op, arg: "k" }, `Expected the last dimension of "k" and "v" to be kvHeads * head size = ${KV} * ${hs} = ${KV * hs}, got ${kvWidth}`);
  return { H, KV, hs };
}

/**
 * Causal attention with grouped key/value heads: q [B, T, H*hs], k and v [B, T, KV*hs]; query
 * head h reads key/value head floor(h / (H/KV)). softmax(q·kᵀ/sqrt(hs), causal)·v → [B, T, H*hs].
 */
export function groupedQueryAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, kvHeads: number): Tensor {
  const op = "groupedQueryAttention";
  const qi = expectF32(op, "q", q);
  const ki = expectF32(op, "k", k);
  const vi = expectF32(op, "v", v);
  expectRank(op, "q", qi, 3);
  expectRank(op, "k", ki, 3);
  expectSameShape(op, "k", ki, "v", vi);
  const [B, T] = [qi.shape[0]!, qi.shape[1]!];
  if (ki.shape[0] !== B || ki.shape[1] !== T) throw new ShapeError({ op, arg: "k" }, `Expected "k" to be [${B}, ${T}, *] like "q" ${fmt(qi.shape)}, got ${fmt(ki.shape)}`);
  const { H, KV, hs } = headSizes(op, qi, ki.shape[2]!, heads, kvHeads);
  const nat = native();
  const out = alloc("f32", qi.shape);
  const lse = alloc("f32", [B, H, T]);
  nat.gqaForward(out.f32(), lse.f32(), qi.f32(), ki.f32(), vi.f32(), null, B, T, T, H, KV, hs, T * KV * hs);
  return record(op, [qi, ki, vi], out, (g) => {
    nat.gqaBackward(gradOf(qi).f32(), gradOf(ki).f32(), gradOf(vi).f32(), g.f32(), qi.f32(), ki.f32(), vi.f32(), lse.f32(), B, T, H, KV, hs);
  });
}

export interface CachedAttentionOptions {
  readonly heads: number;
  readonly kvHeads: number;
  /** Keys [0, length) of the cache are filled; q's Tq rows are the last Tq of them. */
  readonly length: number;
  /** Per batch row, the first valid key (left padding before it); default 0. */
  readonly start?: Int32Array | null;
}

/**
 * Inference only: q [B, Tq, H*hs] attends the first `length` rows of a KV cache k, v
 * [B, S, KV*hs] (capacity S), query t at position length − Tq + t (causal), from start[b] on.
 * A query with no key (t before start) gives zeros. Never recorded: it throws when gradients
 * would be needed (train through groupedQueryAttention).
 */
export function cachedAttention(q: Tensor, k: Tensor, v: Tensor, options: CachedAttentionOptions): Tensor {
  const op = "cachedAttention";
  const qi = expectF32(op, "q", q);
  const ki = expectF32(op, "k", k);
  const vi = expectF32(op, "v", v);
  expectRank(op, "q", qi, 3);
  expectRank(op, "k", ki, 3);
  expectSameShape(op, "k", ki, "v", vi);
  if (isGradEnabled() && (qi.requiresGrad || ki.requiresGrad || vi.requiresGrad)) {
    throw new ArgumentError({ op, arg: "q" }, "cached attention is for inference (no gradient); run it under noGrad or train with groupedQueryAttention");
  }
  const [B, Tq] = [qi.shape[0]!, qi.shape[1]!];
  const S = ki.shape[1]!;
  if (ki.shape[0] !== B) throw new ShapeError({ op, arg: "k" }, `Expected the cache's batch ${ki.shape[0]} to match "q" ${fmt(qi.shape)}`);
  const { H, KV, hs } = headSizes(op, qi, ki.shape[2]!, options.heads, options.kvHeads);
  const Tk = options.length;
  if (!Number.isInteger(Tk) || Tk < Tq || Tk > S) {
    throw new ArgumentError({ op, arg: "length" }, `Expected "length" to be an integer in [${Tq}, ${S}] (the new rows .. the cache capacity), got ${Tk}`);
  }
  const start = options.start ?? null;
  if (start) {
    if (start.length !== B) throw new ArgumentError({ op, arg: "start" }, `Expected one start per batch row (${B}), got ${start.length}`);
    for (let b = 0; b < B; b++) if (!(start[b]! >= 0 && start[b]! <= Tk)) throw new ArgumentError({ op, arg: "start" }, `Expected start[${b}] in [0, ${Tk}], got ${start[b]}`);
  }
  const out = alloc("f32", qi.shape);
  const lse = alloc("f32", [B, H, Tq]);
  native().gqaForward(out.f32(), lse.f32(), qi.f32(), ki.f32(), vi.f32(), start, B, Tq, Tk, H, KV, hs, S * KV * hs);
  return out;
}
