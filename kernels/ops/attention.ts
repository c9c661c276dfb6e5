// Fused causal self-attention on a packed qkv projection.
// Legend: B batch, T time, C channels, H heads, hs head size (C/H).
import { gradOf, record } from "../autograd/graph.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import { ShapeError } from "../errors.js";
import { expectF32, expectRank, fmt, positiveInt } from "./validate.js";

export interface AttentionResult {
  /** [B, T, C]: heads concatenated along channels. */
  readonly out: Tensor;
  /** [B, H, T, T]: the softmax probabilities (zero above the diagonal), not differentiable. */
  readonly att: Tensor;
}

/**
 * softmax(q·kᵀ / sqrt(hs) with a causal mask) · v for qkv [B, T, 3C] split as q, k, v along
 * channels, head h being channels h*hs .. (h+1)*hs of each. Returns [B, T, C]. Saves only each
 * row's log-sum-exp [B, H, T]; backward recomputes the probabilities.
 */
export function causalSelfAttention(qkv: Tensor, heads: number): Tensor {
  return attention(qkv, heads, false).out;
}

/** As causalSelfAttention, also returning the attention probabilities (costs a [B,H,T,T] tensor). */
export function causalSelfAttentionWithProbs(qkv: Tensor, heads: number): AttentionResult {
  return attention(qkv, heads, true) as AttentionResult;
}

function attention(qkv: Tensor, heads: number, probs: boolean): { out: Tensor; att: Tensor | null } {
  const op = "causalSelfAttention";
  const qi = expectF32(op, "qkv", qkv);
  expectRank(op, "qkv", qi, 3);
  const H = positiveInt(op, "heads", heads);
  const [B, T, C3] = [qi.shape[0]!, qi.shape[1]!, qi.shape[2]!];
  if (C3 % 3 !== 0 || (C3 / 3) % H !== 0) {
    throw new ShapeError({ op, arg: "qkv" }, `Expected the last dimension of "qkv" ${fmt(qi.shape)} to be 3 * C with C a multiple of heads (${H})`);
  }
  const C = C3 / 3;
  const nat = native();
  const out = alloc("f32", [B, T, C]);
  const lse = alloc("f32", [B, H, T]);
  const att = probs ? alloc("f32", [B, H, T, T]) : null;
  nat.attentionForward(out.f32(), lse.f32(), att ? att.f32() : null, qi.f32(), B, T, C, H);
  record(op, [qi], out, (g) => {
    nat.attentionBackward(gradOf(qi).f32(), g.f32(), qi.f32(), lse.f32(), B, T, C, H);
  });
  return { out, att };
}
