// Modules: named parameters and named children, composable and replaceable by path.
// Parameter names follow the dotted paths of PyTorch state dicts ("h.0.qkv.weight"). A child
// added with { inline: true } lends its children to the parent's namespace (a transformer
// block holds its attention and MLP inline, so the names stay "h.0.qkv", "h.0.fc" as in the
// reference fixtures) while remaining a module of its own.
import { ArgumentError, ShapeError } from "../errors.js";
import { noGrad } from "../autograd/graph.js";
import { copyInto } from "../tensor/create.js";
import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

interface ChildEntry {
  module: Module;
  inline: boolean;
}

export abstract class Module {
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownChildren = new Map<string, ChildEntry>();
  private isTraining = true;

  /** Registers a parameter (requiresGrad = true) under a name and returns it. */
  protected addParameter(name: string, t: Tensor): Tensor {
    if (name.includes(".")) throw new ArgumentError({ op: "Module.addParameter", arg: "name" }, `parameter names cannot contain ".", got ${JSON.stringify(name)}`);
    t.requiresGrad = true;
    this.ownParams.set(name, t);
    return t;
  }

  /** Unregisters a parameter (a layer that replaced it with something that does not train). */
  protected removeParameter(name: string): void {
    if (!this.ownParams.delete(name)) throw new ArgumentError({ op: "Module.removeParameter", arg: "name" }, `no parameter ${JSON.stringify(name)} in ${this.constructor.name}`);
  }

  /** Registers a child module and returns it. */
  protected addModule<M extends Module>(name: string, m: M, options: { inline?: boolean } = {}): M {
    if (name.includes(".")) throw new ArgumentError({ op: "Module.addModule", arg: "name" }, `module names cannot contain ".", got ${JSON.stringify(name)}`);
    this.ownChildren.set(name, { module: m, inline: options.inline ?? false });
    return m;
  }

  /** A direct child by name (inline children are searched too). */
  child<M extends Module = Module>(name: string): M {
    const found = this.findChild(name);
    if (!found) throw new ArgumentError({ op: "Module.child", arg: "name" }, `no child module ${JSON.stringify(name)} in ${this.constructor.name}`);
    return found.owner.ownChildren.get(name)!.module as M;
  }

  /** A registered parameter of this module (not of its children). */
  param(name: string): Tensor {
    const t = this.ownParams.get(name);
    if (!t) throw new ArgumentError({ op: "Module.param", arg: "name" }, `no parameter ${JSON.stringify(name)} in ${this.constructor.name}`);
    return t;
  }

  private findChild(name: string): { owner: Module } | null {
    const entry = this.ownChildren.get(name);
    if (entry && !entry.inline) return { owner: this };
    for (const e of this.ownChildren.values()) {
      if (!e.inline) continue;
      const found = e.module.findChild(name);
      if (found) return found;
    }
    if (entry) return { owner: this };
    return null;
  }

  /** Every parameter with its dotted path, children in registration order. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.ownParams) out.push([prefix + n, t]);
    for (const [n, e] of this.ownChildren) out.push(...e.module.namedParameters(e.inline ? prefix : `${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every module below this one with its dotted path (inline modules share their parent's). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [n, e] of this.ownChildren) {
      const path = e.inline ? prefix.replace(/\.$/, "") : `${prefix}${n}`;
      if (!e.inline) out.push([path, e.module]);
      out.push(...e.module.namedModules(e.inline ? prefix : `${path}.`));
    }
    return out;
  }

  /** The module at a dotted path ("h.0.qkv"). */
  getModule(path: string): Module {
    let m: Module = this;
    for (const seg of path.split(".")) m = m.child(seg);
    return m;
  }

  /** Replaces the module at a dotted path (e.g. wrap "h.0.qkv" with a LoRA layer). */
  replaceModule(path: string, replacement: Module): void {
    const segs = path.split(".");
    const last = segs.pop()!;
    const parent = segs.length ? this.getModule(segs.join(".")) : this;
    const found = parent.findChild(last);
    if (!found) throw new ArgumentError({ op: "Module.replaceModule", arg: "path" }, `no module at ${JSON.stringify(path)}`);
    const entry = found.owner.ownChildren.get(last)!;
    found.owner.ownChildren.set(last, { module: replacement, inline: entry.inline });
  }

  get training(): boolean {
    return this.isTraining;
  }

  /** Training mode (dropout on) for this module and its children. */
  train(on = true): this {
    this.isTraining = on;
    for (const e of this.ownChildren.values()) e.module.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** requiresGrad = false on every parameter (a frozen base). */
  freeze(): this {
    for (const t of this.parameters()) t.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const t of this.parameters()) t.requiresGrad = true;
    return this;
  }

  /** Zeroes (keeps) every parameter gradient. */
  zeroGrad(): void {
    for (const t of this.parameters()) if (t.grad) (t.grad.data as Float32Array).fill(0);
  }

  /** Parameters by name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /** Copies values into the parameters; strict: every parameter must be present and no extra. */
  loadStateDict(tensors: ReadonlyMap<string, Tensor>, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const params = this.namedParameters();
    const names = new Set(params.map(([n]) => n));
    if (strict) {
      const missing = params.filter(([n]) => !tensors.has(n)).map(([n]) => n);
      const extra = [...tensors.keys()].filter((n) => !names.has(n));
      if (missing.length || extra.length) {
        throw new ArgumentError({ op: "Module.loadStateDict", arg: "tensors" }, `state dict mismatch: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
      }
    }
    noGrad(() => {
      for (const [n, p] of params) {
        const src = tensors.get(n);
        if (!src) continue;
        if (src.dtype !== p.dtype || src.shape.length !== p.shape.length || src.shape.some((d, i) => d !== p.shape[i])) {
          throw new ShapeError({ op: "Module.loadStateDict", arg: n }, `"${n}" is ${src.dtype} ${formatShape(src.shape)}, the parameter is ${p.dtype} ${formatShape(p.shape)}`);
        }
        copyInto(p, src);
      }
    });
  }
}

/** A module with one tensor in and one out (Linear, norms, activations, blocks). */
export interface Layer {
  forward(x: Tensor): Tensor;
}

/** Children "0", "1", ... in order. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly count: number;
  constructor(items: readonly M[]) {
    super();
    items.forEach((m, i) => this.addModule(String(i), m));
    this.count = items.length;
  }
  get length(): number {
    return this.count;
  }
  at(i: number): M {
    return this.child<M>(String(i));
  }
  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }
}
