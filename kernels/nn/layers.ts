// Basic layers: Linear, Embedding, LayerNorm, RMSNorm.
// Legend: C in features, OC out features, V table rows.
import { embedding, layerNorm, linear, rmsNorm } from "../ops/mod.js";
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

/** y = x · weightᵀ + bias with weight [OC, C] (PyTorch layout). */
export class Linear extends Module implements Layer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, rng: Rng, options: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInt("Linear", "inFeatures", inFeatures);
    this.outFeatures = positiveInt("Linear", "outFeatures", outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    const w = zeros([outFeatures, inFeatures]);
    if (options.std !== undefined) normal_(w, rng, options.std);
    else uniform_(w, rng, bound);
    this.weight = this.addParameter("weight", w);
    this.bias = options.bias === false ? null : this.addParameter("bias", options.std !== undefined ? zeros([outFeatures]) : uniform_(zeros([outFeatures]), rng, bound));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
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
