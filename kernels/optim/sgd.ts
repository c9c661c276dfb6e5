// SGD with momentum (PyTorch semantics: the buffer starts as the first gradient; dampening;
// optional Nesterov; L2 weight decay added to the gradient).
import { ArgumentError, ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { finiteNumber, nonNegativeNumber, numberIn } from "../ops/validate.js";
import { outsideWorkspace } from "../tensor/arena.js";
import { copyInto, zeros } from "../tensor/create.js";
import { reshapeLike } from "./params.js";
import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { type Optimizer, zeroGrads } from "./optimizer.js";
import { type NamedParams, gradFor, namedList } from "./params.js";

export interface SgdOptions {
  readonly lr?: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
}

class SgdImpl implements Optimizer {
  lr: number;
  private readonly params: [string, Tensor][];
  private readonly buffers: Map<string, { buf: Tensor; started: Tensor }>;

  constructor(params: NamedParams, private readonly options: SgdOptions) {
    const op = "sgd";
    this.params = namedList(op, params);
    this.lr = nonNegativeNumber(op, "lr", options.lr ?? 1e-2);
    numberIn(op, "momentum", options.momentum ?? 0, 0, 1);
    numberIn(op, "dampening", options.dampening ?? 0, 0, 1.0000001);
    nonNegativeNumber(op, "weightDecay", options.weightDecay ?? 0);
    if (options.nesterov && (!(options.momentum ?? 0) || options.dampening)) {
      throw new ArgumentError({ op, arg: "nesterov" }, "Nesterov momentum needs momentum > 0 and dampening 0");
    }
    this.buffers = outsideWorkspace(() => new Map(
      (options.momentum ?? 0) > 0 ? this.params.map(([n, p]) => [n, { buf: zeros(p.shape), started: zeros([1], "i32") }]) : [],
    ));
  }

  step(): void {
    finiteNumber("sgd", "lr", this.lr);
    const o = this.options;
    const nat = native();
    for (const [name, p] of this.params) {
      const grad = gradFor("sgd", name, p);
      if (!grad) continue;
      const b = this.buffers.get(name);
      const first = b ? (b.started.data as Int32Array)[0] === 0 : true;
      nat.sgdStep(p.data as Float32Array, b ? (b.buf.data as Float32Array) : null, grad, p.size,
        this.lr, o.momentum ?? 0, o.dampening ?? 0, o.weightDecay ?? 0, o.nesterov ?? false, first);
      if (b) (b.started.data as Int32Array)[0] = 1;
    }
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, b] of this.buffers) {
      out.set(`momentum_buffer.${n}`, b.buf);
      out.set(`momentum_started.${n}`, b.started);
    }
    return out;
  }

  loadStateDict(state: ReadonlyMap<string, Tensor>): void {
    for (const [n, b] of this.buffers) {
      for (const [key, dst] of [[`momentum_buffer.${n}`, b.buf], [`momentum_started.${n}`, b.started]] as const) {
        const src = state.get(key);
        if (!src) throw new ArgumentError({ op: "sgd.loadStateDict", arg: key }, `missing optimizer state ${JSON.stringify(key)}`);
        if (src.dtype !== dst.dtype || src.size !== dst.size) {
          throw new ShapeError({ op: "sgd.loadStateDict", arg: key }, `"${key}" is ${src.dtype} ${formatShape(src.shape)}, expected ${dst.dtype} ${formatShape(dst.shape)}`);
        }
        copyInto(dst, src.shape.length === dst.shape.length ? src : reshapeLike(src, dst));
      }
    }
  }
}

/** SGD, with momentum when momentum > 0, as torch.optim.SGD. */
export function sgd(params: NamedParams, options: SgdOptions = {}): Optimizer {
  return new SgdImpl(params, options);
}
