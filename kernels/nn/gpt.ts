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
}

export interface GPTOutput {
  /** [B, T, V] */
  readonly logits: Tensor;
  /** Residual stream [B, T, C]: hidden[0] after the embeddings, hidden[i + 1] after block i (captured layers only; others undefined). */
  readonly hidden: (Tensor | undefined)[];
}

export interface ForwardOptions {
  /** Residual-stream indices to return in `hidden` (0 = embeddings, i + 1 = after block i), or "all". */
  readonly capture?: readonly number[] | "all";
}

export class GPT extends Module {
  readonly config: Required<GPTConfig>;
  /** The source of dropout seeds (forked from the init generator); checkpoint its state(). */
  readonly dropoutRng: Rng;
  private readonly positions = new Map<number, Tensor>();

  constructor(config: GPTConfig, rng: Rng) {
    super();
    const c: Required<GPTConfig> = {
      vocabSize: positiveInt("GPT", "vocabSize", config.vocabSize),
      blockSize: positiveInt("GPT", "blockSize", config.blockSize),
      nEmbd: positiveInt("GPT", "nEmbd", config.nEmbd),
      nHead: positiveInt("GPT", "nHead", config.nHead),
      nLayer: positiveInt("GPT", "nLayer", config.nLayer),
      lnEps: config.lnEps ?? 1e-5,
      tiedLmHead: config.tiedLmHead ?? true,
      dropout: numberIn("GPT", "dropout", config.dropout ?? 0, 0, 1),
    };
    this.config = c;
    this.dropoutRng = rng.fork();
    const std = 0.02;
    this.addModule("wte", new Embedding(c.vocabSize, c.nEmbd, rng, std));
    this.addModule("wpe", new Embedding(c.blockSize, c.nEmbd, rng, std));
    const blocks = Array.from({ length: c.nLayer }, () =>
      new TransformerBlock(c.nEmbd, c.nHead, rng, { std, layers: c.nLayer, lnEps: c.lnEps, dropout: c.dropout, seeds: this.dropoutRng }));
    this.addModule("h", new ModuleList(blocks));
    this.addModule("ln_f", new LayerNorm(c.nEmbd, c.lnEps));
    if (!c.tiedLmHead) this.addModule("lm_head", new Linear(c.nEmbd, c.vocabSize, rng, { bias: false, std }));
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
    const L = this.config.nLayer;
    const want = options.capture === "all" ? null : new Set(options.capture ?? []);
    const keep = (i: number) => want === null || want.has(i);
    const hidden: (Tensor | undefined)[] = new Array(L + 1);
    let x = this.embed(idx);
    if (keep(0)) hidden[0] = x;
    let i = 0;
    for (const block of this.blocks) {
      x = block.forward(x);
      i++;
      if (keep(i)) hidden[i] = x;
    }
    return { logits: this.logitLens(x), hidden };
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
