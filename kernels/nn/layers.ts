// Basic layers: Linear, Embedding, LayerNorm, RMSNorm.
// Legend: C in features, OC out features, V table rows.
import { ArgumentError } from "../errors.js";
import { embedding, layerNorm, linear, rmsNorm } from "../ops/mod.js";
import { type QuantBits, type QuantizedWeight, dequantize, qlinear, quantize } from "../ops/quant.js";
import { positiveInt } from "../ops/validate.js";
import { fromArray, zeros } from "../tensor/create.js";
import type { Rng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import { fill_, normal_, uniform_ } from "./init.js";
import { type Layer, Module } from "./module.js";

export interface LinearOptions {
  readonly bias?: boolean;
  /** Initial weights ~ N(0, std²); default PyTorch's U(±1/sqrt(in)). */
  readonly std?: number;
  /** The model's output head (the logits): QLoRA leaves it f32 (withQuantizedLinears skips it). */
  readonly head?: boolean;
}

/** Linear layers made inside withQuantizedLinears are quantised as soon as they are initialised. */
let quantizeOnCreate: {
  bits: QuantBits;
  take: (inFeatures: number, outFeatures: number) => boolean;
  after?: () => void;
  /** Where each such Linear's f32 weight is initialised, then quantised: one buffer for all of them. */
  scratch: Float32Array;
} | null = null;

/**
 * Runs `fn` (a model's construction) so that every Linear it makes for which `take(in, out)`
 * holds, but the output head (LinearOptions.head), is quantised right after its initialisation: the model's f32 weights never all exist
 * at once (QLoRA on a base too large for f32 memory). Each is initialised in one scratch buffer
 * (as large as the largest such weight) that the next reuses, so construction holds one f32
 * weight and allocates no other. `after` runs after each quantisation.
 */
export function withQuantizedLinears<T>(bits: QuantBits, take: (inFeatures: number, outFeatures: number) => boolean, fn: () => T, after?: () => void): T {
  const before = quantizeOnCreate;
  quantizeOnCreate = { bits, take, scratch: new Float32Array(0), ...(after ? { after } : {}) };
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
  /** The model's output head (LinearOptions.head). */
  readonly head: boolean;
  readonly bias: Tensor | null;
  private w: Tensor | null;
  private q: QuantizedWeight | null = null;

  constructor(inFeatures: number, outFeatures: number, rng: Rng, options: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInt("Linear", "inFeatures", inFeatures);
    this.outFeatures = positiveInt("Linear", "outFeatures", outFeatures);
    this.head = options.head ?? false;
    const bound = 1 / Math.sqrt(inFeatures);
    const q = !this.head && quantizeOnCreate?.take(inFeatures, outFeatures) ? quantizeOnCreate : null;
    const n = outFeatures * inFeatures;
    if (q && q.scratch.length < n) q.scratch = new Float32Array(n);
    const w = q ? fromArray(q.scratch.subarray(0, n), [outFeatures, inFeatures]) : zeros([outFeatures, inFeatures]);
    if (options.std !== undefined) normal_(w, rng, options.std);
    else uniform_(w, rng, bound);
    this.w = this.addParameter("weight", w);
    this.bias = options.bias === false ? null : this.addParameter("bias", options.std !== undefined ? zeros([outFeatures]) : uniform_(zeros([outFeatures]), rng, bound));
    if (q) {
      this.quantize(q.bits); // drops the scratch-backed weight
      q.after?.();
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
