// The adapter layers that wrap a frozen Linear in place (its parameters keep their names):
//
//   LoRA  y = W x + b + s · B(A drop(x))                          s = alpha / r
//   DoRA  y = (m / n) ⊙ (W x + s · B(A drop(x))) + b,  n = ‖W + s·B·A‖ per output row, detached
//
// A (r, in) is drawn uniformly in ±1/sqrt(in), B (out, r) starts at zero, and DoRA's magnitude
// m (out) starts at ‖W‖ per row, so both start as an exact no-op. DoRA's formula is PEFT's: with
// no dropout it equals x·W'ᵀ + b for W' = m · V / ‖V‖ (V = W + s·B·A), and gradients do not flow
// through the norm (it is a constant of each step, as in the DoRA paper's §4.3).
// Names: <path>.lora_A, <path>.lora_B, <path>.lora_magnitude beside <path>.weight, <path>.bias.
// Legend: N rows (all leading dims), C in features, OC out features, r rank.
import {
  Linear, Module, type Layer, type Rng, type Tensor,
  add, dropout, linear, loraLinear, matmul, mul, noGrad, outsideWorkspace, scale, sqrt, square, sum, uniform_, zeros,
} from "../../kernels/mod.js";
import type { LoraConfig } from "./config.js";
import { loraScale } from "./config.js";

export const ADAPTER_PARAMS = ["lora_A", "lora_B", "lora_magnitude"] as const;

/** Is this parameter name part of an adapter (not of the base)? */
export function isAdapterParam(name: string): boolean {
  const last = name.slice(name.lastIndexOf(".") + 1);
  return (ADAPTER_PARAMS as readonly string[]).includes(last);
}

abstract class AdapterLinear extends Module implements Layer {
  readonly base: Linear;
  readonly config: LoraConfig;
  readonly scaling: number;
  readonly A: Tensor;
  readonly B: Tensor;

  constructor(base: Linear, config: LoraConfig, init: Rng, protected readonly seeds: Rng) {
    super();
    this.base = base;
    this.config = config;
    this.scaling = loraScale(config);
    this.addModule("base", base, { inline: true });
    this.A = this.addParameter("lora_A", uniform_(zeros([config.rank, base.inFeatures]), init, 1 / Math.sqrt(base.inFeatures)));
    this.B = this.addParameter("lora_B", zeros([base.outFeatures, config.rank]));
  }

  /** s · B(A drop(x)): [N, C] → [N, OC] */
  protected update(x: Tensor): Tensor {
    const p = this.config.dropout;
    const xin = this.training && p > 0 ? dropout(x, p, { seed: this.seeds.nextU32() }) : x;
    return scale(linear(linear(xin, this.A), this.B), this.scaling);
  }

  abstract forward(x: Tensor): Tensor;
  /** The plain weight this layer computes with (for merging), without recording. */
  abstract mergedWeight(): Tensor;
}

export class LoraLinear extends AdapterLinear {
  /** One op (kernels' loraLinear): the adapter's product is accumulated into the base's output. */
  forward(x: Tensor): Tensor {
    const p = this.config.dropout;
    const xa = this.training && p > 0 ? dropout(x, p, { seed: this.seeds.nextU32() }) : x;
    return loraLinear(x, this.base.quantized ?? this.base.weight, this.base.bias, this.A, this.B, this.scaling, xa);
  }

  mergedWeight(): Tensor {
    return noGrad(() => add(this.base.weight, scale(matmul(this.B, this.A), this.scaling)));
  }
}

export class DoraLinear extends AdapterLinear {
  readonly magnitude: Tensor;

  constructor(base: Linear, config: LoraConfig, init: Rng, seeds: Rng) {
    super(base, config, init, seeds);
    this.magnitude = this.addParameter("lora_magnitude", outsideWorkspace(() => noGrad(() => rowNorm(base.weight))));
  }

  /** V = W + s·B·A [OC, C], not recorded. */
  private adapted(): Tensor {
    return noGrad(() => add(this.base.weight, scale(matmul(this.B, this.A), this.scaling)));
  }

  forward(x: Tensor): Tensor {
    const n = noGrad(() => rowNorm(this.adapted())); // detached: a constant of this step
    const coef = mul(this.magnitude, noGrad(() => reciprocal(n)));
    const direction = add(linear(x, this.base.weight), this.update(x));
    const y = mul(direction, coef);
    return this.base.bias ? add(y, this.base.bias) : y;
  }

  mergedWeight(): Tensor {
    return noGrad(() => {
      const v = this.adapted();
      const coef = mul(this.magnitude, reciprocal(rowNorm(v)));
      return mul(v, reshapeColumn(coef));
    });
  }
}

/** ‖W‖ per output row: [OC, C] → [OC] */
export function rowNorm(w: Tensor): Tensor {
  return sqrt(sum(square(w), { axis: 1 }));
}

function reciprocal(t: Tensor): Tensor {
  const out = zeros(t.shape);
  const o = out.f32();
  const s = t.f32();
  for (let i = 0; i < s.length; i++) o[i] = 1 / s[i]!;
  return out;
}

function reshapeColumn(t: Tensor): Tensor {
  const out = zeros([t.size, 1]);
  out.f32().set(t.f32());
  return out;
}
