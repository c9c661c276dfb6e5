// The GPT of ../shared/fixtures (GPT-2 style): learned positions, pre-LayerNorm blocks with
// tanh-GELU MLPs, a final LayerNorm and an lm_head tied to the token embedding (or its own
// when tiedLmHead is false). Parameter names match the fixtures: wte.weight, wpe.weight,
// h.{i}.{ln_1,qkv,proj,ln_2,fc,fc_proj}.{weight,bias}, ln_f.{weight,bias} (+ lm_head.weight).
// Legend: B batch, T time, C channels (n_embd), V vocab, L layers.
import { ArgumentError } from "../errors.js";
import { add, crossEntropy, dropout, embedding, linear } from "../ops/mod.js";
import { expectI32, expectRank, fmt, numberIn, positiveInt } from "../ops/validate.js";
import { arange } from "../tensor/create.js";
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import { type DecoderDims, type DecoderOutput, type ForwardOptions, captureLoop } from "./decoder.js";
import { KvCache } from "./kv-cache.js";
import { Embedding, LayerNorm, Linear } from "./layers.js";
import { Module, ModuleList } from "./module.js";
import { TransformerBlock } from "./transformer.js";

export interface GPTConfig {
  readonly vocabSize: number;
  readonly blockSize: number;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly lnEps?: number;
  readonly tiedLmHead?: boolean;
  /** Dropout after the embeddings and on every residual branch, in training mode (default 0). */
  readonly dropout?: number;
  /** Hidden channels of every MLP (default 4 · nEmbd; fewer after structured pruning). */
  readonly mlpHidden?: number;
}

/** A GPT config with its defaults filled in; mlpHidden is present only when it is not 4 · nEmbd. */
export type ResolvedGPTConfig = Required<Omit<GPTConfig, "mlpHidden">> & { readonly mlpHidden?: number };

export type GPTOutput = DecoderOutput;
export type { ForwardOptions } from "./decoder.js";

export class GPT extends Module {
  readonly arch = "gpt2";
  readonly config: ResolvedGPTConfig;
  /** The source of dropout seeds (forked from the init generator); checkpoint its state(). */
  readonly dropoutRng: Rng;
  private readonly positions = new Map<number, Tensor>();

  constructor(config: GPTConfig, rng: Rng) {
    super();
    const mlpHidden = config.mlpHidden === undefined ? undefined : positiveInt("GPT", "mlpHidden", config.mlpHidden);
    const c: ResolvedGPTConfig = {
      vocabSize: positiveInt("GPT", "vocabSize", config.vocabSize),
      blockSize: positiveInt("GPT", "blockSize", config.blockSize),
      nEmbd: positiveInt("GPT", "nEmbd", config.nEmbd),
      nHead: positiveInt("GPT", "nHead", config.nHead),
      nLayer: positiveInt("GPT", "nLayer", config.nLayer),
      lnEps: config.lnEps ?? 1e-5,
      tiedLmHead: config.tiedLmHead ?? true,
      dropout: numberIn("GPT", "dropout", config.dropout ?? 0, 0, 1),
      ...(mlpHidden !== undefined && mlpHidden !== 4 * config.nEmbd ? { mlpHidden } : {}),
    };
    this.config = c;
    this.dropoutRng = rng.fork();
    const std = 0.02;
    this.addModule("wte", new Embedding(c.vocabSize, c.nEmbd, rng, std));
    this.addModule("wpe", new Embedding(c.blockSize, c.nEmbd, rng, std));
    const blocks = Array.from({ length: c.nLayer }, () =>
      new TransformerBlock(c.nEmbd, c.nHead, rng, { std, layers: c.nLayer, lnEps: c.lnEps, dropout: c.dropout, seeds: this.dropoutRng, ...(c.mlpHidden ? { mlpHidden: c.mlpHidden } : {}) }));
    this.addModule("h", new ModuleList(blocks));
    this.addModule("ln_f", new LayerNorm(c.nEmbd, c.lnEps));
    if (!c.tiedLmHead) this.addModule("lm_head", new Linear(c.nEmbd, c.vocabSize, rng, { bias: false, std, head: true }));
  }

  get dims(): DecoderDims {
    const c = this.config;
    return { vocabSize: c.vocabSize, hidden: c.nEmbd, layers: c.nLayer, heads: c.nHead, kvHeads: c.nHead, headDim: c.nEmbd / c.nHead, maxPositions: c.blockSize };
  }

  get blocks(): ModuleList<TransformerBlock> {
    return this.child<ModuleList<TransformerBlock>>("h");
  }

  private positionsFor(T: number): Tensor {
    let p = this.positions.get(T);
    if (!p) {
      p = arange(T);
      this.positions.set(T, p);
    }
    return p;
  }

  /** idx [B, T] (i32) → the residual stream after the embeddings [B, T, C]. */
  embed(idx: Tensor): Tensor {
    const ii = expectI32("GPT.forward", "idx", idx);
    expectRank("GPT.forward", "idx", ii, 2);
    const T = ii.shape[1]!;
    if (T > this.config.blockSize) {
      throw new ArgumentError({ op: "GPT.forward", arg: "idx" }, `sequence length ${T} of "idx" ${fmt(ii.shape)} exceeds blockSize ${this.config.blockSize}`);
    }
    const tok = this.child<Embedding>("wte").forward(ii);
    const pos = embedding(this.child<Embedding>("wpe").weight, this.positionsFor(T));
    const x = add(tok, pos);
    if (!this.training || this.config.dropout === 0) return x;
    return dropout(x, this.config.dropout, { seed: this.dropoutRng.nextU32() });
  }

  /** ln_f then the (tied) lm_head: the logit lens on any residual-stream state [..., C] → [..., V]. */
  logitLens(hidden: Tensor): Tensor {
    const h = this.child<LayerNorm>("ln_f").forward(hidden);
    const head = this.config.tiedLmHead ? this.child<Embedding>("wte").weight : this.child<Linear>("lm_head").weight;
    return linear(h, head);
  }

  /** logits [B, T, V] for idx [B, T], plus the captured hidden states. */
  forwardWithHidden(idx: Tensor, options: ForwardOptions = {}): GPTOutput {
    return captureLoop(this.config.nLayer, options, (keep) => {
      let x = this.embed(idx);
      keep(0, x);
      let i = 0;
      for (const block of this.blocks) {
        x = block.forward(x);
        keep(++i, x);
      }
      return this.logitLens(x);
    });
  }

  /** A KV cache for `batch` rows of up to `capacity` positions (at most blockSize: positions are learned). */
  createCache(batch: number, capacity: number): KvCache {
    if (capacity > this.config.blockSize) {
      throw new ArgumentError({ op: "GPT.createCache", arg: "capacity" }, `a GPT has ${this.config.blockSize} learned positions; a cache of ${capacity} cannot be filled`);
    }
    return new KvCache(batch, capacity, this.config.nLayer, this.config.nEmbd);
  }

  /** Logits [B, Tn, V] of the next Tn tokens idx [B, Tn], appended to `cache` (inference only). */
  forwardCached(idx: Tensor, cache: KvCache): Tensor {
    return this.resumeCached(this.prefixCached(idx, 0, cache), 0, cache);
  }

  /** The next Tn tokens through the embeddings (at the cache's positions) and blocks 0..layer-1 → [B, Tn, C]. */
  prefixCached(idx: Tensor, layer: number, cache: KvCache): Tensor {
    const ii = expectI32("GPT.prefixCached", "idx", idx);
    expectRank("GPT.prefixCached", "idx", ii, 2);
    this.checkLayer("GPT.prefixCached", layer);
    const Tn = ii.shape[1]!;
    const pos = cache.positions(Tn);
    cache.embed(Tn);
    let x = add(this.child<Embedding>("wte").forward(ii), embedding(this.child<Embedding>("wpe").weight, pos));
    for (let i = 0; i < layer; i++) x = this.blocks.at(i).forwardCached(x, cache, i);
    return x;
  }

  /** States [B, Tn, C] at residual index `layer` through blocks layer..L-1 (cached) and the head → logits. */
  resumeCached(hidden: Tensor, layer: number, cache: KvCache): Tensor {
    this.checkLayer("GPT.resumeCached", layer);
    let x = hidden;
    for (let i = layer; i < this.config.nLayer; i++) x = this.blocks.at(i).forwardCached(x, cache, i);
    return this.logitLens(x);
  }

  private checkLayer(op: string, layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer > this.config.nLayer) {
      throw new ArgumentError({ op, arg: "layer" }, `Expected "layer" in 0..${this.config.nLayer}, got ${layer}`);
    }
  }

  forward(idx: Tensor): Tensor {
    return this.forwardWithHidden(idx).logits;
  }

  /**
   * Runs blocks from..to-1 on a residual-stream state [B, T, C] taken at index `from` and
   * returns the state at index `to` (0 = after the embeddings, i = after block i-1). The same
   * ops as forwardWithHidden, so a state captured there continues bit for bit.
   */
  runBlocks(hidden: Tensor, from: number, to: number): Tensor {
    const L = this.config.nLayer;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > L || from > to) {
      throw new ArgumentError({ op: "GPT.runBlocks", arg: "from" }, `Expected 0 <= from <= to <= ${L} (residual-stream indices of this ${L}-block model), got from ${from}, to ${to}`);
    }
    expectRank("GPT.runBlocks", "hidden", hidden, 3);
    if (hidden.shape[2] !== this.config.nEmbd) {
      throw new ArgumentError({ op: "GPT.runBlocks", arg: "hidden" }, `Expected a state [B, T, ${this.config.nEmbd}], got ${fmt(hidden.shape)}`);
    }
    let x = hidden;
    for (let i = from; i < to; i++) x = this.blocks.at(i).forward(x);
    return x;
  }

  /** Resumes the forward pass from the residual stream at index `layer`: blocks layer..L-1, then ln_f and the head → logits [B, T, V]. */
  resumeFrom(hidden: Tensor, layer: number): Tensor {
    return this.logitLens(this.runBlocks(hidden, layer, this.config.nLayer));
  }

  /** Mean cross-entropy of the next-token logits against targets [B, T] (IGNORE_INDEX skipped). */
  loss(idx: Tensor, targets: Tensor): { logits: Tensor; loss: Tensor } {
    const logits = this.forward(idx);
    return { logits, loss: crossEntropy(logits, targets) };
  }
}
