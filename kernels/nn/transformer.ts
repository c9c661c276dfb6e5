// Transformer pieces: causal multi-head attention, MLP, pre-LayerNorm block.
// Legend: B batch, T time, C channels, H heads.
import { add, cachedAttention, causalSelfAttention, contiguous, dropout, gelu, narrow, silu } from "../ops/mod.js";
import { ArgumentError } from "../errors.js";
import { positiveInt } from "../ops/validate.js";
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import type { KvCache } from "./kv-cache.js";
import { LayerNorm, Linear } from "./layers.js";
import { type Layer, Module } from "./module.js";

export interface InitOptions {
  /** std of the weights (GPT-2: 0.02); residual projections get std / sqrt(2 * layers). */
  readonly std?: number;
  readonly layers?: number;
}

function projStd(init: InitOptions): number | undefined {
  if (init.std === undefined) return undefined;
  return init.std / Math.sqrt(2 * (init.layers ?? 1));
}

/** Causal self-attention: qkv Linear(C, 3C) → fused attention → proj Linear(C, C). */
export class MultiHeadAttention extends Module implements Layer {
  readonly heads: number;
  constructor(dim: number, heads: number, rng: Rng, init: InitOptions = {}) {
    super();
    positiveInt("MultiHeadAttention", "dim", dim);
    this.heads = positiveInt("MultiHeadAttention", "heads", heads);
    if (dim % heads !== 0) {
      throw new ArgumentError({ op: "MultiHeadAttention", arg: "heads" }, `Expected "dim" (${dim}) to be a multiple of "heads" (${heads})`);
    }
    this.addModule("qkv", new Linear(dim, 3 * dim, rng, init.std === undefined ? {} : { std: init.std }));
    const ps = projStd(init);
    this.addModule("proj", new Linear(dim, dim, rng, ps === undefined ? {} : { std: ps }));
  }

  /** x [B, T, C] → [B, T, C] */
  forward(x: Tensor): Tensor {
    const qkv = this.child<Module & Layer>("qkv").forward(x);
    return this.child<Module & Layer>("proj").forward(causalSelfAttention(qkv, this.heads));
  }

  /** x [B, Tn, C] for the next Tn positions of `cache` (layer `layer`) → [B, Tn, C]; inference only. */
  forwardCached(x: Tensor, cache: KvCache, layer: number): Tensor {
    const qkv = this.child<Module & Layer>("qkv").forward(x);
    const C = qkv.shape[2]! / 3;
    const [q, k, v] = [0, 1, 2].map((i) => contiguous(narrow(qkv, 2, i * C, C))) as [Tensor, Tensor, Tensor];
    const length = cache.write(layer, k, v);
    const L = cache.layers[layer]!;
    const att = cachedAttention(q, L.k, L.v, { heads: this.heads, kvHeads: this.heads, length, start: cache.padded ? cache.start : null });
    return this.child<Module & Layer>("proj").forward(att);
  }
}

export const Activation = { gelu: "gelu", silu: "silu" } as const;
export type Activation = (typeof Activation)[keyof typeof Activation];

/** fc Linear(C, hidden) → activation → fc_proj Linear(hidden, C). */
export class MLP extends Module implements Layer {
  constructor(dim: number, hidden: number, rng: Rng, init: InitOptions = {}, readonly activation: Activation = "gelu") {
    super();
    this.addModule("fc", new Linear(dim, hidden, rng, init.std === undefined ? {} : { std: init.std }));
    const ps = projStd(init);
    this.addModule("fc_proj", new Linear(hidden, dim, rng, ps === undefined ? {} : { std: ps }));
  }

  forward(x: Tensor): Tensor {
    const h = this.child<Module & Layer>("fc").forward(x);
    const a = this.activation === "gelu" ? gelu(h) : silu(h);
    return this.child<Module & Layer>("fc_proj").forward(a);
  }
}

export interface BlockOptions extends InitOptions {
  readonly lnEps?: number;
  readonly mlpRatio?: number;
  /** MLP hidden channels (overrides mlpRatio). */
  readonly mlpHidden?: number;
  /** Dropout on each residual branch in training mode (default 0). */
  readonly dropout?: number;
  /** Where dropout seeds come from (one 32-bit draw per dropout call); save its state to resume. */
  readonly seeds?: Rng;
}

/** Pre-LayerNorm block: x + attn(ln_1(x)), then + mlp(ln_2(x)). Children: ln_1, qkv, proj, ln_2, fc, fc_proj. */
export class TransformerBlock extends Module implements Layer {
  private readonly pDrop: number;
  private readonly seeds: Rng | null;

  constructor(dim: number, heads: number, rng: Rng, options: BlockOptions = {}) {
    super();
    this.pDrop = options.dropout ?? 0;
    this.seeds = options.seeds ?? null;
    if (this.pDrop > 0 && !this.seeds) {
      throw new ArgumentError({ op: "TransformerBlock", arg: "seeds" }, "dropout needs a seeds generator");
    }
    const eps = options.lnEps ?? 1e-5;
    this.addModule("ln_1", new LayerNorm(dim, eps));
    this.addModule("attn", new MultiHeadAttention(dim, heads, rng, options), { inline: true });
    this.addModule("ln_2", new LayerNorm(dim, eps));
    this.addModule("mlp", new MLP(dim, options.mlpHidden ?? (options.mlpRatio ?? 4) * dim, rng, options), { inline: true });
  }

  private drop(x: Tensor): Tensor {
    if (!this.training || this.pDrop === 0) return x;
    return dropout(x, this.pDrop, { seed: this.seeds!.nextU32() });
  }

  forward(x: Tensor): Tensor {
    const ln1 = this.child<LayerNorm>("ln_1");
    const ln2 = this.child<LayerNorm>("ln_2");
    const h = add(x, this.drop(this.child<MultiHeadAttention>("attn").forward(ln1.forward(x))));
    return add(h, this.drop(this.child<MLP>("mlp").forward(ln2.forward(h))));
  }

  /** The block on the next positions of a KV cache (inference: no dropout). */
  forwardCached(x: Tensor, cache: KvCache, layer: number): Tensor {
    const h = add(x, this.child<MultiHeadAttention>("attn").forwardCached(this.child<LayerNorm>("ln_1").forward(x), cache, layer));
    return add(h, this.child<MLP>("mlp").forward(this.child<LayerNorm>("ln_2").forward(h)));
  }
}
