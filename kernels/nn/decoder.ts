// What every decoder network here (GPT, Llama) offers the layers above: sizes, logits with
// hidden states captured at chosen layers, the logit lens, resuming the forward pass from any
// layer's state, and incremental decoding against a KV cache. models/ names this interface
// CausalLM and puts the architectures behind a registry; nothing above it needs to know which
// network it holds.
// Legend: B batch, T time, C channels, V vocab, L layers.
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import type { KvCache } from "./kv-cache.js";
import type { Module } from "./module.js";

export interface DecoderDims {
  readonly vocabSize: number;
  /** C: the residual stream's width. */
  readonly hidden: number;
  /** L: blocks. */
  readonly layers: number;
  readonly heads: number;
  /** Key/value heads (= heads without grouped-query attention). */
  readonly kvHeads: number;
  readonly headDim: number;
  /** The context the model takes in one forward pass (GPT: its learned positions). */
  readonly maxPositions: number;
}

export interface ForwardOptions {
  /** Residual-stream indices to return in `hidden` (0 = embeddings, i + 1 = after block i), or "all". */
  readonly capture?: readonly number[] | "all";
}

export interface DecoderOutput {
  /** [B, T, V] */
  readonly logits: Tensor;
  /** Residual stream [B, T, C]: hidden[0] after the embeddings, hidden[i + 1] after block i (captured layers only). */
  readonly hidden: (Tensor | undefined)[];
}

export interface Decoder extends Module {
  /** The architecture's registry key (Hugging Face model_type): "gpt2", "llama". */
  readonly arch: string;
  readonly dims: DecoderDims;
  readonly dropoutRng: Rng;
  /** idx [B, T] → the residual stream after the embeddings [B, T, C]. */
  embed(idx: Tensor): Tensor;
  forward(idx: Tensor): Tensor;
  forwardWithHidden(idx: Tensor, options?: ForwardOptions): DecoderOutput;
  /** The final norm and the head on any residual-stream state [..., C] → [..., V]. */
  logitLens(hidden: Tensor): Tensor;
  /** The state at residual index `from` [B, T, C] → the state at index `to` (blocks from..to-1). */
  runBlocks(hidden: Tensor, from: number, to: number): Tensor;
  /** hidden [B, T, C] = the state at residual index `layer` → blocks layer..L-1 and the head → logits. */
  resumeFrom(hidden: Tensor, layer: number): Tensor;
  loss(idx: Tensor, targets: Tensor): { logits: Tensor; loss: Tensor };
  createCache(batch: number, capacity: number): KvCache;
  /** Logits [B, Tn, V] of the next Tn tokens, appended to the cache (inference only). */
  forwardCached(idx: Tensor, cache: KvCache): Tensor;
  /** The next Tn tokens through the embeddings and blocks 0..layer-1 (cached) → the state at residual index `layer` [B, Tn, C]. */
  prefixCached(idx: Tensor, layer: number, cache: KvCache): Tensor;
  /** States [B, Tn, C] at residual index `layer` through blocks layer..L-1 (cached) and the head → logits [B, Tn, V]. */
  resumeCached(hidden: Tensor, layer: number, cache: KvCache): Tensor;
}

/**
 * The capture bookkeeping of forwardWithHidden: `body(keep)` runs the network, offering each
 * residual state to keep(index, x), and returns the logits.
 */
export function captureLoop(layers: number, options: ForwardOptions, body: (keep: (i: number, x: Tensor) => void) => Tensor): DecoderOutput {
  const want = options.capture === "all" ? null : new Set(options.capture ?? []);
  const hidden: (Tensor | undefined)[] = new Array(layers + 1);
  const logits = body((i, x) => {
    if (want === null || want.has(i)) hidden[i] = x;
  });
  return { logits, hidden };
}
