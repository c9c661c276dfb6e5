// What optimizers take: named parameters (from a Module or a list of [name, tensor]).
import { ArgumentError } from "../errors.js";
import { clone, fromArray } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";

export type NamedParams = Iterable<readonly [string, Tensor]> | { namedParameters(): [string, Tensor][] };

export function namedList(op: string, params: NamedParams): [string, Tensor][] {
  const list: [string, Tensor][] =
    "namedParameters" in params && typeof params.namedParameters === "function"
      ? params.namedParameters()
      : [...(params as Iterable<readonly [string, Tensor]>)].map(([n, t]) => [n, t] as [string, Tensor]);
  const seen = new Set<string>();
  for (const [n, t] of list) {
    if (seen.has(n)) throw new ArgumentError({ op, arg: "params" }, `duplicate parameter name ${JSON.stringify(n)}`);
    seen.add(n);
    if (t.dtype !== "f32" || !t.isContiguous) {
      throw new ArgumentError({ op, arg: n }, `parameters must be contiguous f32 tensors, "${n}" is ${t.dtype}${t.isContiguous ? "" : " (strided)"}`);
    }
  }
  return list;
}

/** The gradient of a parameter, checked (a user may have assigned .grad by hand). */
export function gradFor(op: string, name: string, t: Tensor): Float32Array | null {
  const g = t.grad;
  if (!t.requiresGrad || !g) return null;
  if (g.dtype !== "f32" || !g.isContiguous || g.size !== t.size) {
    throw new ArgumentError({ op, arg: name }, `the gradient of "${name}" is ${g.dtype} ${JSON.stringify(g.shape)}${g.isContiguous ? "" : " (strided)"}, expected contiguous f32 ${JSON.stringify(t.shape)}`);
  }
  return g.data as Float32Array;
}

/** src viewed with dst's shape (same size; a state tensor saved flat loads into any shape). */
export function reshapeLike(src: Tensor, dst: Tensor): Tensor {
  const flat = src.isContiguous ? src : clone(src);
  return fromArray(flat.data.subarray(0, flat.size), dst.shape, src.dtype === "bf16" ? "bf16" : "f16");
}
