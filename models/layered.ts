// The narrow view of a language model that the AGP heads, the oracle, the transfer codecs and
// the stage tasks use: a stack of blocks over a residual stream that can be captured at any
// index, decoded at any index (the logit lens), and resumed from any index. The GPT satisfies
// it; any architecture that does (Llama next) gets the heads without a line of change here.
// Nothing in heads/, oracle/, transfer/ or tasks/agp/ reaches into a model's blocks.
//
// Residual-stream indices: 0 = after the embeddings, i = after block i-1, L = the input of the
// final norm. A scenario names blocks (block b = index b + 1); these functions take indices.
// Legend: B batch, T time, C channels, V vocab, L blocks.
import type { Tensor } from "../kernels/mod.js";
import { ModelConfigError } from "./errors.js";

export interface LayeredModel {
  /** GPT-style sizes (nLayer, nEmbd, vocabSize, blockSize): the GPT has these ... */
  readonly config?: object;
  /** ... or decoder-style sizes (hidden, layers, vocabSize, maxPositions); see dimsOf. */
  readonly dims?: { readonly vocabSize: number; readonly hidden: number; readonly layers: number; readonly maxPositions: number };
  /** logits [B, T, V] and the residual stream at the captured indices. */
  forwardWithHidden(idx: Tensor, options?: { readonly capture?: readonly number[] | "all" }): { readonly logits: Tensor; readonly hidden: readonly (Tensor | undefined)[] };
  /** idx [B, T] → the residual stream at index 0 [B, T, C]. */
  embed(idx: Tensor): Tensor;
  /** The state at index `from` → the state at index `to` (blocks from..to-1). */
  runBlocks(hidden: Tensor, from: number, to: number): Tensor;
  /** Final norm and head on any state [..., C] → [..., V]. */
  logitLens(hidden: Tensor): Tensor;
  /** Blocks layer..L-1, then the final norm and head → logits [B, T, V]. */
  resumeFrom(hidden: Tensor, layer: number): Tensor;
  namedParameters(): [string, Tensor][];
  readonly training: boolean;
  train(on?: boolean): unknown;
  eval(): unknown;
}

/** The sizes the AGP pieces need. */
export interface LayeredDims {
  /** L: blocks */
  readonly layers: number;
  /** C: the residual stream's width */
  readonly channels: number;
  readonly vocab: number;
  /** the longest context one forward pass takes */
  readonly positions: number;
}

const cache = new WeakMap<object, LayeredDims>();

/** A model's sizes, from `dims` (decoder-style) or `config` (GPT-style). */
export function dimsOf(model: LayeredModel): LayeredDims {
  const known = cache.get(model);
  if (known) return known;
  let d: LayeredDims | null = null;
  if (model.dims) d = { layers: model.dims.layers, channels: model.dims.hidden, vocab: model.dims.vocabSize, positions: model.dims.maxPositions };
  else if (model.config) {
    const c = model.config as { nLayer?: unknown; nEmbd?: unknown; vocabSize?: unknown; blockSize?: unknown };
    if ([c.nLayer, c.nEmbd, c.vocabSize, c.blockSize].every((v) => typeof v === "number")) {
      d = { layers: c.nLayer as number, channels: c.nEmbd as number, vocab: c.vocabSize as number, positions: c.blockSize as number };
    }
  }
  if (!d) throw new ModelConfigError("model", "the model has neither dims { layers, hidden, vocabSize, maxPositions } nor a GPT config { nLayer, nEmbd, vocabSize, blockSize }");
  cache.set(model, d);
  return d;
}

/** Checks residual-stream indices against a model: integers in [lo, L] (lo default 0). */
export function checkIndices(model: LayeredModel, key: string, layers: readonly number[], lo = 0, hi = dimsOf(model).layers): number[] {
  const L = dimsOf(model).layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new ModelConfigError(key, "expected at least one residual-stream index");
  for (const l of layers) {
    if (!Number.isInteger(l) || l < lo || l > hi) {
      throw new ModelConfigError(key, `index ${l} is outside ${lo}..${hi} (0 = after the embeddings, i = after block i-1; this model has ${L} blocks)`);
    }
  }
  const sorted = [...new Set(layers)].sort((a, b) => a - b);
  if (sorted.length !== layers.length) throw new ModelConfigError(key, `indices repeat: [${layers.join(", ")}]`);
  return sorted;
}

/** The model in eval mode while fn runs (dropout off), then back to what it was. */
export function inEval<T>(model: LayeredModel, fn: () => T): T {
  const was = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(was);
  }
}
