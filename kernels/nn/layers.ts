// Basic layers: Linear, Embedding, LayerNorm, RMSNorm.
// Legend: C in features, OC out features, V table rows.
import { ArgumentError } from "../errors.js";
import { embedding, layerNorm, linear, rmsNorm } from "../ops/mod.js";
import { type QuantBits, type QuantizedWeight, dequantize, qlinear, quantize } from "../ops/quant.js";
import { positiveInt } from "../ops/validate.js";
import { zeros } from "../tensor/create.js";
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import { fill_, normal_, uniform_ } from "./init.js";
import { type Layer, Module } from "./module.js";

export interface LinearOptions {
  readonly bias?: boolean;
  /** Initial weights ~ N(0, std²); default PyTorch's U(±1/sqrt(in)). */
  readonly std?: number;
}

/** Linear layers made inside withQuantizedLinears are quantised as soon as they are initialised. */
let quantizeOnCreate: { bits: QuantBits; take: (inFeatures: number, outFeatures: number) => boolean; after?: () => void } | null = null;

/**
 * Runs `fn` (a model's construction) so that every Linear it makes for which `take(in, out)`
 * holds is quantised right after its initialisation: the model's f32 weights never all exist
 * at once (QLoRA on a base too large for f32 memory). `after` runs after each (a caller that can
 * collect garbage, e.g. global.gc under --expose-gc, reclaims each dropped f32 weight there).
 */
export function withQuantizedLinears<T>(bits: QuantBits, take: (inFeatures: number, outFeatures: number) => boolean, fn: () => T, after?: () => void): T {
  const before = quantizeOnCreate;
  quantizeOnCreate = { bits, take, ...(after ? { after } : {}) };
  try {
    return fn();
  } finally {
    quantizeOnCreate = before;
  }
}

/**
 * y = x · weightᵀ + bias with weight [OC, C] (PyTorch layout). After quantize(bits) the weight
 * is a frozen block-quantised one (ops/quant.ts, QLoRA's base): it is no longer a parameter,
 * `weight` dequantises it on demand, and forward runs qlinear (dequantised inside the GEMM).
 */
export class Linear extends Module implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: Tensor | null;
  private w: Tensor | null;
  private q: QuantizedWeight | null = null;

  constructor(inFeatures: number, outFeatures: number, rng: Rng, options: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInt("Linear", "inFeatures", inFeatures);
    this.outFeatures = positiveInt("Linear", "outFeatures", outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    const w = zeros([outFeatures, inFeatures]);
    if (options.std !== undefined) normal_(w, rng, options.std);
    else uniform_(w, rng, bound);
    this.w = this.addParameter("weight", w);
    this.bias = options.bias === false ? null : this.addParameter("bias", options.std !== undefined ? zeros([outFeatures]) : uniform_(zeros([outFeatures]), rng, bound));
    if (quantizeOnCreate?.take(inFeatures, outFeatures)) {
      this.quantize(quantizeOnCreate.bits);
      quantizeOnCreate.after?.();
    }
  }

  /** The f32 weight, or (quantised) its dequantisation, a fresh tensor outside autograd. */
  get weight(): Tensor {
    return this.q ? dequantize(this.q) : this.w!;
  }

  /** The quantised weight, or null. */
  get quantized(): QuantizedWeight | null {
    return this.q;
  }

  /** Replaces the weight by its block quantisation (frozen; the f32 tensor is dropped). */
  quantize(bits: QuantBits): this {
    if (this.q) throw new ArgumentError({ op: "Linear.quantize", arg: "bits" }, `this Linear is already quantised to ${this.q.bits} bits`);
    this.q = quantize(this.w!, bits);
    this.removeParameter("weight");
    this.w = null;
    if (this.bias) this.bias.requiresGrad = false;
    return this;
  }

  forward(x: Tensor): Tensor {
    return this.q ? qlinear(x, this.q, this.bias) : linear(x, this.w!, this.bias);
  }
}

/** Rows of weight [V, C] looked up by i32 indices. */
export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(rows: number, dim: number, rng: Rng, std = 1) {
    super();
    positiveInt("Embedding", "rows", rows);
    positiveInt("Embedding", "dim", dim);
    this.weight = this.addParameter("weight", normal_(zeros([rows, dim]), rng, std));
  }

  forward(idx: Tensor): Tensor {
    return embedding(this.weight, idx);
  }
}

export class LayerNorm extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(dim: number, readonly eps = 1e-5) {
    super();
    positiveInt("LayerNorm", "dim", dim);
    this.weight = this.addParameter("weight", fill_(zeros([dim]), 1));
    this.bias = this.addParameter("bias", zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module implements Layer {
  readonly weight: Tensor;
  constructor(dim: number, readonly eps = 1e-6) {
    super();
    positiveInt("RMSNorm", "dim", dim);
    this.weight = this.addParameter("weight", fill_(zeros([dim]), 1));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
