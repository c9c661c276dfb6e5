// Quantization-aware training: every target Linear is wrapped (in place, its parameters keep
// their names) by a layer that fake-quantises its weight in the forward and lets the gradient
// through by a straight-through estimator (kernels/quant). Weight formats:
//   q4_0 / q8_0   ggml's blocks of 32, bit for bit what the GGUF export stores
//   int           b bits (8, 4, 2), per tensor or per channel, symmetric or asymmetric
//   ternary       BitNet b1.58: γ = mean|W|, W̃ = clip(round(W/(γ+ε)), −1, 1)·γ, with 8-bit absmax
//                 activations per token
//   sign          1 bit: sign(W)·mean|W| per output channel
// The STE is a knob (plain, clipped, soft with an annealed temperature), and a progressive
// schedule lowers the bit width over training (e.g. 8 → 4 → 2). The latent f32 weights train;
// removeQat() puts the plain Linear layers back (the export then quantises them the same way).
// Legend: OC out features, C in features.
import { Linear, Module, type Layer, type Tensor, type SteKind, activationQuant8, fakeQuant, linear, noGrad, signQuant, ternaryQuant } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import { type CausalLM, architectureOf } from "../arch/mod.js";
import { matchesAnyTarget } from "../lora/mod.js";

export const QatFormat = { q4_0: "q4_0", q8_0: "q8_0", int: "int", ternary: "ternary", sign: "sign" } as const;
export type QatFormat = (typeof QatFormat)[keyof typeof QatFormat];

export interface QatConfig {
  readonly format: QatFormat;
  /** For "int": 2..8 (default 4). */
  readonly bits?: number;
  /** For "int": per "channel" (default) or per "tensor". */
  readonly granularity?: "tensor" | "channel";
  readonly symmetric?: boolean;
  readonly ste?: SteKind;
  /** τ of the soft STE at the start and the end of training (annealed geometrically). */
  readonly softness?: { readonly from: number; readonly to: number };
  /** "int" only: [step, bits] pairs, the width in force from each step on (e.g. [[0, 8], [200, 4]]). */
  readonly progressive?: readonly (readonly [number, number])[];
  /** 8-bit absmax activations per token (default: on for ternary, off otherwise). */
  readonly activations8?: boolean;
  /** Layers to wrap (default every Linear the architecture has: qkv, proj, fc, fc_proj / q_proj … down_proj; and lm_head). */
  readonly targets?: readonly string[];
}

/** The training position a QAT model quantises at (drives progressive widths and τ). */
export interface QatClock {
  step: number;
  totalSteps: number;
}

export class QuantLinear extends Module implements Layer {
  readonly base: Linear;
  constructor(base: Linear, readonly config: QatConfig, private readonly clock: QatClock) {
    super();
    this.base = base;
    this.addModule("base", base, { inline: true });
  }

  /** The fake-quantised weight, for callers that multiply by a head's weight directly (a Llama's logit lens). */
  get weight(): Tensor {
    return this.quantizedWeight();
  }

  /** Bits in force now (int format). */
  bits(): number {
    const p = this.config.progressive;
    let b = this.config.bits ?? 4;
    if (p) for (const [step, bits] of p) if (this.clock.step >= step) b = bits;
    return b;
  }

  softness(): number | undefined {
    const s = this.config.softness;
    if (!s) return undefined;
    const f = this.clock.totalSteps > 0 ? Math.min(1, this.clock.step / this.clock.totalSteps) : 1;
    return s.from * (s.to / s.from) ** f;
  }

  /** The weight the forward computes with (recorded: gradients reach the latent weight). */
  quantizedWeight(): Tensor {
    const w = this.base.weight;
    const c = this.config;
    switch (c.format) {
      case "q4_0": return fakeQuant(w, { bits: 4, granularity: "block" });
      case "q8_0": return fakeQuant(w, { bits: 8, granularity: "block" });
      case "ternary": return ternaryQuant(w);
      case "sign": return signQuant(w);
      case "int": {
        const tau = this.softness();
        return fakeQuant(w, {
          bits: this.bits(), granularity: c.granularity ?? "channel", symmetric: c.symmetric ?? true, ste: c.ste ?? (tau ? "soft" : "plain"),
          ...(tau !== undefined ? { softness: tau } : {}),
        });
      }
    }
  }

  forward(x: Tensor): Tensor {
    const act = this.config.activations8 ?? this.config.format === "ternary";
    return linear(act ? activationQuant8(x) : x, this.quantizedWeight(), this.base.bias);
  }
}

function checkConfig(c: QatConfig): QatConfig {
  if (!c || !(Object.values(QatFormat) as string[]).includes(c.format)) {
    throw new ModelConfigError("qat.format", `expected one of ${Object.values(QatFormat).join(", ")}, got ${JSON.stringify(c?.format)}`);
  }
  const widths = [c.bits ?? 4, ...(c.progressive ?? []).map(([, b]) => b)];
  if (c.format === "int" && widths.some((b) => !Number.isInteger(b) || b < 2 || b > 8)) {
    throw new ModelConfigError("qat.bits", `expected bit widths in 2..8 (1 bit is format "sign"), got ${JSON.stringify(widths)}`);
  }
  if (c.softness && !(c.softness.from > 0 && c.softness.to > 0)) throw new ModelConfigError("qat.softness", `expected positive temperatures, got ${JSON.stringify(c.softness)}`);
  return c;
}

/** Wraps the target Linear layers; returns their paths and the clock to advance during training. */
export function applyQat(model: CausalLM, config: QatConfig): { targets: string[]; clock: QatClock } {
  const c = checkConfig(config);
  const clock: QatClock = { step: 0, totalSteps: 0 };
  const patterns = c.targets ?? [...architectureOf(model).linearNames, "lm_head"];
  const targets: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !matchesAnyTarget(path, [...patterns])) continue;
    const q = new QuantLinear(m, c, clock);
    q.train(model.training);
    model.replaceModule(path, q);
    targets.push(path);
  }
  if (targets.length === 0) throw new ModelConfigError("qat.targets", `no Linear layer matches ${JSON.stringify(patterns)}`);
  return { targets, clock };
}

/** Puts the plain Linear layers back (latent weights kept; bake: true stores the quantised values instead). */
export function removeQat(model: CausalLM, options: { bake?: boolean } = {}): string[] {
  const layers = model.namedModules().filter((e): e is [string, QuantLinear] => e[1] instanceof QuantLinear);
  for (const [path, q] of layers) {
    if (options.bake) q.base.weight.f32().set(noGrad(() => q.quantizedWeight()).f32());
    model.replaceModule(path, q.base);
  }
  return layers.map(([p]) => p);
}
