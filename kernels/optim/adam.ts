// Adam and AdamW, updated in place by one native call per parameter, with PyTorch 1.13's
// arithmetic: AdamW decays p *= 1 - lr*wd before the moments; bias corrections 1 - beta^t with
// a per-parameter step; denom = sqrt(v)/sqrt(1 - beta2^t) + eps. Adam adds wd*p to the gradient.
import { ArgumentError, ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { finiteNumber, nonNegativeNumber, numberIn, positiveNumber } from "../ops/validate.js";
import { outsideWorkspace } from "../tensor/arena.js";
import { copyInto, zeros } from "../tensor/create.js";
import { reshapeLike } from "./params.js";
import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Optimizer, zeroGrads } from "./optimizer.js";
import { type NamedParams, gradFor, namedList } from "./params.js";

export interface AdamOptions {
  readonly lr?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
  /** Parameters for which this returns false get no weight decay (e.g. biases, norms). */
  readonly decay?: (name: string, t: Tensor) => boolean;
}

interface Slot {
  readonly name: string;
  readonly param: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
  readonly step: Tensor; // i32 [1]
  readonly decay: boolean;
}

class AdamImpl implements Optimizer {
  lr: number;
  private readonly slots: Slot[];
  private readonly params: [string, Tensor][];

  constructor(private readonly op: string, params: NamedParams, options: AdamOptions, private readonly decoupled: boolean) {
    this.params = namedList(op, params);
    this.lr = nonNegativeNumber(op, "lr", options.lr ?? 1e-3);
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    numberIn(op, "betas[0]", b1, 0, 1);
    numberIn(op, "betas[1]", b2, 0, 1);
    positiveNumber(op, "eps", options.eps ?? 1e-8);
    nonNegativeNumber(op, "weightDecay", options.weightDecay ?? (decoupled ? 0.01 : 0));
    this.betas = [b1, b2];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
    this.slots = outsideWorkspace(() => this.params.map(([name, p]) => ({
      name, param: p, m: zeros(p.shape), v: zeros(p.shape), step: zeros([1], "i32"),
      decay: options.decay ? options.decay(name, p) : true,
    })));
  }

  private readonly betas: [number, number];
  private readonly eps: number;
  private readonly weightDecay: number;

  step(): void {
    finiteNumber(this.op, "lr", this.lr);
    const nat = native();
    for (const s of this.slots) {
      const p = s.param;
      const grad = gradFor(this.op, s.name, p);
      if (!grad) continue;
      const step = (s.step.data as Int32Array);
      step[0]! += 1;
      nat.adamStep(p.data as Float32Array, s.m.data as Float32Array, s.v.data as Float32Array, grad,
        p.size, this.lr, this.betas[0], this.betas[1], this.eps, s.decay ? this.weightDecay : 0, step[0]!, this.decoupled);
    }
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const s of this.slots) {
      out.set(`exp_avg.${s.name}`, s.m);
      out.set(`exp_avg_sq.${s.name}`, s.v);
      out.set(`step.${s.name}`, s.step);
    }
    return out;
  }

  loadStateDict(state: ReadonlyMap<string, Tensor>): void {
    for (const s of this.slots) {
      for (const [key, dst] of [[`exp_avg.${s.name}`, s.m], [`exp_avg_sq.${s.name}`, s.v], [`step.${s.name}`, s.step]] as const) {
        const src = state.get(key);
        if (!src) throw new ArgumentError({ op: `${this.op}.loadStateDict`, arg: key }, `missing optimizer state ${JSON.stringify(key)}`);
        if (src.dtype !== dst.dtype || src.size !== dst.size) {
          throw new ShapeError({ op: `${this.op}.loadStateDict`, arg: key }, `"${key}" is ${src.dtype} ${formatShape(src.shape)}, expected ${dst.dtype} ${formatShape(dst.shape)}`);
        }
        copyInto(dst, src.shape.length === dst.shape.length ? src : reshapeLike(src, dst));
      }
    }
  }
}

/** AdamW (decoupled weight decay, default 0.01), as torch.optim.AdamW. */
export function adamw(params: NamedParams, options: AdamOptions = {}): Optimizer {
  return new AdamImpl("adamw", params, options, true);
}

/** Adam with L2 weight decay added to the gradient (default 0), as torch.optim.Adam. */
export function adam(params: NamedParams, options: AdamOptions = {}): Optimizer {
  return new AdamImpl("adam", params, options, false);
}
