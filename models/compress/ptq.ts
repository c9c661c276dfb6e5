// Post-training quantisation with calibration: weights quantised once (ggml's Q8_0/Q4_0 blocks,
// or b-bit per-channel grids), and optionally every Linear's input on a static b-bit grid whose
// range comes from calibration batches — min-max (covers every value seen) or a percentile of
// |x| (clips rare outliers so the levels go to the bulk). Calibration wraps each Linear with an
// observer, runs the batches without recording, then swaps the observers for the quantised
// layers. Nothing trains.
// Legend: B batch, T time.
import { type CalibrationOptions, Linear, Module, type Layer, type Observer, type Tensor, createObserver, fakeQuant, fromArray, linear, noGrad } from "../../kernels/mod.js";
import type { TokenBatch } from "../../data/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";

export interface PtqConfig {
  /** Q8_0 / Q4_0 blocks, or a per-channel symmetric b-bit grid. */
  readonly weights: "q8_0" | "q4_0" | { readonly bits: number };
  /** Static activation quantisation of every Linear's input, calibrated (default: none). */
  readonly activations?: { readonly bits: number; readonly calibration: CalibrationOptions };
}

class Observing extends Module implements Layer {
  readonly observer: Observer;
  constructor(readonly base: Linear, options: CalibrationOptions) {
    super();
    this.observer = createObserver(options);
    this.addModule("base", base, { inline: true });
  }
  forward(x: Tensor): Tensor {
    this.observer.observe(x.f32());
    return this.base.forward(x);
  }
}

export class PtqLinear extends Module implements Layer {
  private readonly w: Tensor;
  constructor(readonly base: Linear, config: PtqConfig, readonly range: { min: number; max: number } | null) {
    super();
    this.addModule("base", base, { inline: true });
    const c = config.weights;
    this.w = noGrad(() => (c === "q8_0" || c === "q4_0") ? fakeQuant(base.weight, { bits: c === "q8_0" ? 8 : 4, granularity: "block" }) : fakeQuant(base.weight, { bits: c.bits, granularity: "channel" }));
    this.bits = config.activations?.bits ?? 0;
  }
  private readonly bits: number;
  forward(x: Tensor): Tensor {
    const xq = this.range ? fakeQuant(x, { bits: this.bits, range: this.range, ste: "clipped" }) : x;
    return linear(xq, this.w, this.base.bias);
  }
}

/** Quantises the model's Linear layers in place; returns the calibrated input range of each. */
export function applyPtq(model: CausalLM, calibration: readonly TokenBatch[], config: PtqConfig): Map<string, { min: number; max: number } | null> {
  const w = config.weights;
  if (typeof w === "object" && !(Number.isInteger(w.bits) && w.bits >= 2 && w.bits <= 8)) throw new ModelConfigError("ptq.weights.bits", `expected 2..8, got ${w.bits}`);
  if (config.activations && calibration.length === 0) throw new ModelConfigError("ptq.calibration", "activation quantisation needs calibration batches");
  const linears = model.namedModules().filter((e): e is [string, Linear] => e[1] instanceof Linear);
  const ranges = new Map<string, { min: number; max: number } | null>();
  if (config.activations) {
    const obs = linears.map(([path, l]) => {
      const o = new Observing(l, config.activations!.calibration);
      model.replaceModule(path, o);
      return [path, o] as const;
    });
    const was = model.training;
    model.eval();
    noGrad(() => {
      for (const b of calibration) model.forward(fromArray(b.idx, [b.B, b.T]));
    });
    model.train(was);
    for (const [path, o] of obs) {
      ranges.set(path, o.observer.range());
      model.replaceModule(path, o.base);
    }
  }
  for (const [path, l] of linears) {
    const r = ranges.get(path) ?? null;
    ranges.set(path, r);
    model.replaceModule(path, new PtqLinear(l, config, r));
  }
  return ranges;
}
