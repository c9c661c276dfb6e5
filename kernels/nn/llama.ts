// A Llama-family decoder with Hugging Face's LlamaForCausalLM semantics and parameter names:
//   model.embed_tokens.weight, model.layers.{i}.{input_layernorm, post_attention_layernorm}.weight,
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight, model.layers.{i}.mlp.{gate,up,down}_proj.weight,
//   model.norm.weight, lm_head.weight (absent when tied to embed_tokens).
// Block: x += o_proj(attn(rope(q), rope(k), v)) on input_layernorm(x), then
// x += down_proj(silu(gate_proj(h)) * up_proj(h)) with h = post_attention_layernorm(x). RMSNorm,
// rotary embeddings with rotate_half, grouped-query attention (each key/value head serves
// heads/kv_heads consecutive query heads), no biases unless attention_bias / mlp_bias.
// Legend: B batch, T time, C hidden, H heads, KV key/value heads, hs head size, V vocab, I intermediate.
import { ArgumentError } from "../errors.js";
import { add, cachedAttention, crossEntropy, dropout, groupedQueryAttention, linear, rope, swiglu } from "../ops/mod.js";
import { expectI32, expectRank, fmt, numberIn, positiveInt } from "../ops/validate.js";
import { fromArray } from "../tensor/create.js";
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import type { DecoderDims, DecoderOutput, ForwardOptions } from "./decoder.js";
import { captureLoop } from "./decoder.js";
import { KvCache } from "./kv-cache.js";
import { Embedding, Linear, RMSNorm } from "./layers.js";
import { type Layer, Module, ModuleList } from "./module.js";
import { type RopeScaling, RotaryTable } from "./rope.js";

export interface LlamaConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHeads: number;
  /** Key/value heads (grouped-query attention); default numHeads. */
  readonly numKvHeads?: number;
  readonly numLayers: number;
  /** Default hiddenSize / numHeads. */
  readonly headDim?: number;
  /** The context a model is trained for (rotary positions may go beyond when decoding). */
  readonly maxPositions: number;
  readonly rmsNormEps?: number;
  readonly ropeTheta?: number;
  readonly ropeScaling?: RopeScaling | null;
  /** lm_head shares embed_tokens' weight (default false, as Llama). */
  readonly tiedLmHead?: boolean;
  readonly attentionBias?: boolean;
  readonly mlpBias?: boolean;
  /** Initial weights ~ N(0, initStd²) (Hugging Face's initializer_range, default 0.02). */
  readonly initStd?: number;
  /** Dropout on the residual branches in training mode (troupe's; default 0). */
  readonly dropout?: number;
}

export type ResolvedLlamaConfig = { -readonly [K in Exclude<keyof LlamaConfig, "ropeScaling">]-?: NonNullable<LlamaConfig[K]> } & { ropeScaling: RopeScaling | null };
type Resolved = ResolvedLlamaConfig;

export function resolveLlamaConfig(c: LlamaConfig): Resolved {
  const op = "Llama";
  const r: Resolved = {
    vocabSize: positiveInt(op, "vocabSize", c.vocabSize),
    hiddenSize: positiveInt(op, "hiddenSize", c.hiddenSize),
    intermediateSize: positiveInt(op, "intermediateSize", c.intermediateSize),
    numHeads: positiveInt(op, "numHeads", c.numHeads),
    numKvHeads: positiveInt(op, "numKvHeads", c.numKvHeads ?? c.numHeads),
    numLayers: positiveInt(op, "numLayers", c.numLayers),
    headDim: 0,
    maxPositions: positiveInt(op, "maxPositions", c.maxPositions),
    rmsNormEps: c.rmsNormEps ?? 1e-6,
    ropeTheta: c.ropeTheta ?? 10000,
    ropeScaling: c.ropeScaling ?? null,
    tiedLmHead: c.tiedLmHead ?? false,
    attentionBias: c.attentionBias ?? false,
    mlpBias: c.mlpBias ?? false,
    initStd: c.initStd ?? 0.02,
    dropout: numberIn(op, "dropout", c.dropout ?? 0, 0, 1),
  };
  if (c.headDim === undefined && r.hiddenSize % r.numHeads !== 0) {
    throw new ArgumentError({ op, arg: "numHeads" }, `Expected "hiddenSize" (${r.hiddenSize}) to be a multiple of "numHeads" (${r.numHeads}) (or give "headDim")`);
  }
  r.headDim = positiveInt(op, "headDim", c.headDim ?? r.hiddenSize / r.numHeads);
  if (r.headDim % 2 !== 0) throw new ArgumentError({ op, arg: "headDim" }, `Expected an even head size for rotary embeddings, got ${r.headDim}`);
  if (r.numHeads % r.numKvHeads !== 0) throw new ArgumentError({ op, arg: "numKvHeads" }, `Expected "numHeads" (${r.numHeads}) to be a multiple of "numKvHeads" (${r.numKvHeads})`);
  if (!(r.rmsNormEps > 0)) throw new ArgumentError({ op, arg: "rmsNormEps" }, `Expected a positive "rmsNormEps", got ${r.rmsNormEps}`);
  if (!(r.ropeTheta > 0)) throw new ArgumentError({ op, arg: "ropeTheta" }, `Expected a positive "ropeTheta", got ${r.ropeTheta}`);
  return r;
}

/** Shared by every layer of one model: the rotary tables and the dropout seeds. */
interface Shared {
  readonly c: Resolved;
  readonly rotary: RotaryTable;
  readonly seeds: Rng;
}

function proj(inF: number, outF: number, rng: Rng, bias: boolean, std: number): Linear {
  return new Linear(inF, outF, rng, { bias, std });
}

/** q/k/v/o projections around rotary grouped-query attention. */
export class LlamaAttention extends Module {
  constructor(private readonly s: Shared, rng: Rng) {
    super();
    const { hiddenSize: C, numHeads: H, numKvHeads: KV, headDim: hs, attentionBias: bias, initStd: std } = s.c;
    this.addModule("q_proj", proj(C, H * hs, rng, bias, std));
    this.addModule("k_proj", proj(C, KV * hs, rng, bias, std));
    this.addModule("v_proj", proj(C, KV * hs, rng, bias, std));
    this.addModule("o_proj", proj(H * hs, C, rng, bias, std));
  }

  private qkv(x: Tensor, pos: Tensor, P: number): [Tensor, Tensor, Tensor] {
    const { cos, sin } = this.s.rotary.tables(P);
    const H = this.s.c.numHeads, KV = this.s.c.numKvHeads;
    const q = rope(this.child<Module & Layer>("q_proj").forward(x), pos, cos, sin, H);
    const k = rope(this.child<Module & Layer>("k_proj").forward(x), pos, cos, sin, KV);
    return [q, k, this.child<Module & Layer>("v_proj").forward(x)];
  }

  /** x [B, T, C], pos [B, T] → [B, T, C] */
  forward(x: Tensor, pos: Tensor, P: number): Tensor {
    const [q, k, v] = this.qkv(x, pos, P);
    return this.child<Module & Layer>("o_proj").forward(groupedQueryAttention(q, k, v, this.s.c.numHeads, this.s.c.numKvHeads));
  }

  /** x [B, Tn, C] for the next Tn positions of `cache` (layer `layer`) → [B, Tn, C]; inference only. */
  forwardCached(x: Tensor, cache: KvCache, layer: number): Tensor {
    const Tn = x.shape[1]!;
    cache.reserve(Tn, layer);
    const pos = cache.positions(Tn, layer);
    const [q, k, v] = this.qkv(x, pos, cache.lengths[layer]! + Tn);
    const length = cache.write(layer, k, v);
    const L = cache.layers[layer]!;
    const att = cachedAttention(q, L.k, L.v, { heads: this.s.c.numHeads, kvHeads: this.s.c.numKvHeads, length, start: cache.padded ? cache.start : null });
    return this.child<Module & Layer>("o_proj").forward(att);
  }
}

/** down_proj(silu(gate_proj(x)) * up_proj(x)) */
export class LlamaMLP extends Module implements Layer {
  constructor(c: Resolved, rng: Rng) {
    super();
    this.addModule("gate_proj", proj(c.hiddenSize, c.intermediateSize, rng, c.mlpBias, c.initStd));
    this.addModule("up_proj", proj(c.hiddenSize, c.intermediateSize, rng, c.mlpBias, c.initStd));
    this.addModule("down_proj", proj(c.intermediateSize, c.hiddenSize, rng, c.mlpBias, c.initStd));
  }

  forward(x: Tensor): Tensor {
    const g = this.child<Module & Layer>("gate_proj").forward(x);
    const u = this.child<Module & Layer>("up_proj").forward(x);
    return this.child<Module & Layer>("down_proj").forward(swiglu(g, u));
  }
}

export class LlamaDecoderLayer extends Module {
  constructor(private readonly s: Shared, rng: Rng) {
    super();
    this.addModule("self_attn", new LlamaAttention(s, rng));
    this.addModule("mlp", new LlamaMLP(s.c, rng));
    this.addModule("input_layernorm", new RMSNorm(s.c.hiddenSize, s.c.rmsNormEps));
    this.addModule("post_attention_layernorm", new RMSNorm(s.c.hiddenSize, s.c.rmsNormEps));
  }

  private drop(x: Tensor): Tensor {
    if (!this.training || this.s.c.dropout === 0) return x;
    return dropout(x, this.s.c.dropout, { seed: this.s.seeds.nextU32() });
  }

  private mlp(h: Tensor): Tensor {
    return add(h, this.drop(this.child<LlamaMLP>("mlp").forward(this.child<RMSNorm>("post_attention_layernorm").forward(h))));
  }

  forward(x: Tensor, pos: Tensor, P: number): Tensor {
    const a = this.child<LlamaAttention>("self_attn").forward(this.child<RMSNorm>("input_layernorm").forward(x), pos, P);
    return this.mlp(add(x, this.drop(a)));
  }

  forwardCached(x: Tensor, cache: KvCache, layer: number): Tensor {
    const a = this.child<LlamaAttention>("self_attn").forwardCached(this.child<RMSNorm>("input_layernorm").forward(x), cache, layer);
    return this.mlp(add(x, a));
  }
}

/** The decoder stack without the head (Hugging Face's LlamaModel, "model."). */
export class LlamaModel extends Module {
  constructor(s: Shared, rng: Rng) {
    super();
    this.addModule("embed_tokens", new Embedding(s.c.vocabSize, s.c.hiddenSize, rng, s.c.initStd));
    this.addModule("layers", new ModuleList(Array.from({ length: s.c.numLayers }, () => new LlamaDecoderLayer(s, rng))));
    this.addModule("norm", new RMSNorm(s.c.hiddenSize, s.c.rmsNormEps));
  }
}

export class Llama extends Module {
  readonly arch = "llama";
  readonly config: Resolved;
  /** The source of dropout seeds (forked from the init generator); checkpoint its state(). */
  readonly dropoutRng: Rng;
  private readonly shared: Shared;
  private readonly positions = new Map<string, Tensor>();

  constructor(config: LlamaConfig, rng: Rng) {
    super();
    this.config = resolveLlamaConfig(config);
    this.dropoutRng = rng.fork();
    const c = this.config;
    this.shared = { c, rotary: new RotaryTable(c.headDim, c.ropeTheta, c.ropeScaling, c.maxPositions), seeds: this.dropoutRng };
    this.addModule("model", new LlamaModel(this.shared, rng));
    if (!c.tiedLmHead) this.addModule("lm_head", new Linear(c.hiddenSize, c.vocabSize, rng, { bias: false, std: c.initStd, head: true }));
  }

  get dims(): DecoderDims {
    const c = this.config;
    return { vocabSize: c.vocabSize, hidden: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, maxPositions: c.maxPositions };
  }

  private get layers(): ModuleList<LlamaDecoderLayer> {
    return this.child<LlamaModel>("model").child<ModuleList<LlamaDecoderLayer>>("layers");
  }

  private positionsFor(B: number, T: number): Tensor {
    const key = `${B}x${T}`;
    let p = this.positions.get(key);
    if (!p) {
      const d = new Int32Array(B * T);
      for (let i = 0; i < d.length; i++) d[i] = i % T;
      this.positions.set(key, (p = fromArray(d, [B, T])));
    }
    return p;
  }

  private checkIdx(idx: Tensor): Tensor {
    const ii = expectI32("Llama.forward", "idx", idx);
    expectRank("Llama.forward", "idx", ii, 2);
    return ii;
  }

  /** idx [B, T] (i32) → the residual stream after the embeddings [B, T, C]. */
  embed(idx: Tensor): Tensor {
    const x = this.child<LlamaModel>("model").child<Embedding>("embed_tokens").forward(this.checkIdx(idx));
    if (!this.training || this.config.dropout === 0) return x;
    return dropout(x, this.config.dropout, { seed: this.dropoutRng.nextU32() });
  }

  /** model.norm then lm_head (or the tied embedding): the logit lens on any state [..., C] → [..., V]. */
  logitLens(hidden: Tensor): Tensor {
    const h = this.child<LlamaModel>("model").child<RMSNorm>("norm").forward(hidden);
    const head = this.config.tiedLmHead ? this.child<LlamaModel>("model").child<Embedding>("embed_tokens").weight : this.child<Linear>("lm_head").weight;
    return linear(h, head);
  }

  /** Blocks from..to-1 on x [B, T, C] (positions 0..T-1), each state offered to `each`. */
  private run(x: Tensor, from: number, to: number, each: (i: number, x: Tensor) => void): Tensor {
    const [B, T] = [x.shape[0]!, x.shape[1]!];
    const pos = this.positionsFor(B, T);
    for (let i = from; i < to; i++) {
      x = this.layers.at(i).forward(x, pos, T);
      each(i + 1, x);
    }
    return x;
  }

  forwardWithHidden(idx: Tensor, options: ForwardOptions = {}): DecoderOutput {
    return captureLoop(this.config.numLayers, options, (keep) => {
      const x = this.embed(idx);
      keep(0, x);
      return this.logitLens(this.run(x, 0, this.config.numLayers, keep));
    });
  }

  /**
   * Runs blocks from..to-1 on a residual-stream state [B, T, C] taken at index `from` and
   * returns the state at index `to` (0 = after the embeddings, i = after block i-1). The same
   * ops as forwardWithHidden, so a state captured there continues bit for bit.
   */
  runBlocks(hidden: Tensor, from: number, to: number): Tensor {
    const L = this.config.numLayers;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > L || from > to) {
      throw new ArgumentError({ op: "Llama.runBlocks", arg: "from" }, `Expected 0 <= from <= to <= ${L} (residual-stream indices of this ${L}-block model), got from ${from}, to ${to}`);
    }
    if (hidden.shape.length !== 3 || hidden.shape[2] !== this.config.hiddenSize) {
      throw new ArgumentError({ op: "Llama.runBlocks", arg: "hidden" }, `Expected a state [B, T, ${this.config.hiddenSize}], got ${fmt(hidden.shape)}`);
    }
    return this.run(hidden, from, to, () => {});
  }

  /** The residual stream at index `layer` (0: the embeddings) [B, T, C] through blocks layer..L-1 and the head → logits. */
  resumeFrom(hidden: Tensor, layer: number): Tensor {
    return this.logitLens(this.runBlocks(hidden, layer, this.config.numLayers));
  }

  forward(idx: Tensor): Tensor {
    return this.forwardWithHidden(idx).logits;
  }

  loss(idx: Tensor, targets: Tensor): { logits: Tensor; loss: Tensor } {
    const logits = this.forward(idx);
    return { logits, loss: crossEntropy(logits, targets) };
  }

  /** A KV cache for `batch` rows of up to `capacity` positions. */
  createCache(batch: number, capacity: number): KvCache {
    return new KvCache(batch, capacity, this.config.numLayers, this.config.numKvHeads * this.config.headDim);
  }

  /** Logits [B, Tn, V] of the next Tn tokens idx [B, Tn], appended to `cache` (inference only). */
  forwardCached(idx: Tensor, cache: KvCache): Tensor {
    return this.resumeCached(this.prefixCached(idx, 0, cache), 0, cache);
  }

  /** The next Tn tokens through the embeddings and blocks 0..layer-1 (cached) → [B, Tn, C]. */
  prefixCached(idx: Tensor, layer: number, cache: KvCache): Tensor {
    this.checkLayer("Llama.prefixCached", layer);
    const ii = this.checkIdx(idx);
    cache.embed(ii.shape[1]!);
    let x = this.child<LlamaModel>("model").child<Embedding>("embed_tokens").forward(ii);
    for (let i = 0; i < layer; i++) x = this.layers.at(i).forwardCached(x, cache, i);
    return x;
  }

  /** States [B, Tn, C] at residual index `layer` through blocks layer..L-1 (cached) and the head → logits. */
  resumeCached(hidden: Tensor, layer: number, cache: KvCache): Tensor {
    this.checkLayer("Llama.resumeCached", layer);
    let x = hidden;
    for (let i = layer; i < this.config.numLayers; i++) x = this.layers.at(i).forwardCached(x, cache, i);
    return this.logitLens(x);
  }

  private checkLayer(op: string, layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer > this.config.numLayers) {
      throw new ArgumentError({ op, arg: "layer" }, `Expected "layer" in 0..${this.config.numLayers}, got ${layer}`);
    }
  }
}
