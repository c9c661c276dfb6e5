// Shape ops: reshape (shares data), transpose and narrow (strided views), contiguous (copy).
// A strided view only feeds contiguous(), which records the backward to the view's base.
import { gradOf, record } from "../autograd/graph.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import { type Shape, contiguousStrides, numel } from "../tensor/shape.js";
import { type Tensor, TensorImpl } from "../tensor/tensor.js";
import { expectTensor, fmt } from "./validate.js";

function resolveDim(op: string, arg: string, x: TensorImpl, d: number): number {
  const r = x.shape.length;
  if (!Number.isInteger(d) || d < -r || d >= r) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be an integer in [${-r}, ${r - 1}] for ${fmt(x.shape)}, got ${d}`);
  }
  return d < 0 ? d + r : d;
}

/** The same data with another shape (one entry may be -1). x must be contiguous. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const op = "reshape";
  const xi = expectTensor(op, "x", x, x?.dtype ?? "f32");
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || !shape.every((d) => d === -1 || (Number.isInteger(d) && d >= 0))) {
    throw new ShapeError({ op, arg: "shape" }, `Expected "shape" to hold non-negative integers and at most one -1, got ${fmt(shape)}`);
  }
  const known = numel(shape.filter((d) => d !== -1));
  const target = shape.map((d) => (d === -1 ? (known === 0 ? 0 : xi.size / known) : d));
  if (numel(target) !== xi.size || !target.every(Number.isInteger)) {
    throw new ShapeError({ op, arg: "shape" }, `cannot reshape "x" ${fmt(xi.shape)} (${xi.size} elements) to ${fmt(shape)}`);
  }
  const out = new TensorImpl(xi.dtype, target, xi.data);
  if (xi.dtype !== "f32") return out;
  return record(op, [xi], out, (g) => {
    native().axpy(gradOf(xi).f32(), 1, g.f32(), xi.size);
  });
}

/** Collapses dims [start, end] into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  const xi = expectTensor("flatten", "x", x, x?.dtype ?? "f32");
  const s = resolveDim("flatten", "start", xi, start);
  const e = resolveDim("flatten", "end", xi, end);
  const shape = [...xi.shape.slice(0, s), numel(xi.shape.slice(s, e + 1)), ...xi.shape.slice(e + 1)];
  return reshape(xi, shape);
}

function viewOf(x: TensorImpl, shape: number[], strides: number[], offset: number): TensorImpl {
  const base = x.base ?? x;
  const v = new TensorImpl(x.dtype, shape, base.data, strides, offset);
  v.base = base;
  v.requiresGrad = base.requiresGrad;
  return v;
}

/** Swaps two axes (a strided view; call contiguous() before most ops). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const op = "transpose";
  const xi = expectTensor(op, "x", x, x?.dtype ?? "f32", false);
  const a = resolveDim(op, "dim0", xi, dim0);
  const b = resolveDim(op, "dim1", xi, dim1);
  const shape = xi.shape.slice();
  const strides = xi.strides.slice();
  [shape[a], shape[b]] = [shape[b]!, shape[a]!];
  [strides[a], strides[b]] = [strides[b]!, strides[a]!];
  return viewOf(xi, shape, strides, xi.offset);
}

/** Elements [start, start + length) along an axis: a view (contiguous when axis is the first non-unit one). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const op = "narrow";
  const xi = expectTensor(op, "x", x, x?.dtype ?? "f32", false);
  const ax = resolveDim(op, "axis", xi, axis);
  const n = xi.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > n) {
    throw new ArgumentError({ op, arg: "start" }, `Expected 0 <= start and start + length <= ${n} on axis ${ax} of ${fmt(xi.shape)}, got start ${start}, length ${length}`);
  }
  const shape = xi.shape.slice();
  shape[ax] = length;
  const offset = xi.offset + start * xi.strides[ax]!;
  const view = viewOf(xi, shape, xi.strides.slice(), offset);
  if (!(xi.isContiguous && view.shape.slice(0, ax).every((d) => d === 1))) return view;
  // a contiguous block of x: share the memory as a proper tensor
  const out = new TensorImpl(xi.dtype, shape, xi.data.subarray(offset, offset + numel(shape)));
  if (xi.dtype !== "f32") return out;
  return record(op, [xi], out, (g) => {
    native().axpy(gradOf(xi).f32().subarray(offset), 1, g.f32(), out.size);
  });
}

/** x itself when contiguous, else a contiguous copy whose gradient flows back to the view's base. */
export function contiguous(x: Tensor): Tensor {
  const op = "contiguous";
  const xi = expectTensor(op, "x", x, "f32", false);
  if (xi.isContiguous) return xi;
  const base = xi.base ?? xi;
  const out = alloc("f32", xi.shape);
  const nat = native();
  nat.copyStrided(out.f32(), base.f32(), xi.shape, xi.strides.slice(), xi.offset);
  return record(op, [base], out, (g) => {
    nat.reduceInto(gradOf(base).f32().subarray(xi.offset), g.f32(), xi.shape, xi.strides.slice(), 1);
  });
}

/** Tensors joined along an axis (all other dims equal). The gradient is split back. */
export function concat(tensors: readonly Tensor[], axis = -1): Tensor {
  const op = "concat";
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new ArgumentError({ op, arg: "tensors" }, "Expected \"tensors\" to be a non-empty array");
  }
  const xs = tensors.map((t, i) => expectTensor(op, `tensors[${i}]`, t));
  const first = xs[0]!;
  const ax = resolveDim(op, "axis", first, axis);
  xs.forEach((x, i) => {
    const ok = x.shape.length === first.shape.length && x.shape.every((d, k) => k === ax || d === first.shape[k]);
    if (!ok) throw new ShapeError({ op, arg: `tensors[${i}]` }, `Expected "tensors[${i}]" to match ${fmt(first.shape)} except on axis ${ax}, got ${fmt(x.shape)}`);
  });
  const shape = first.shape.slice();
  shape[ax] = xs.reduce((n, x) => n + x.shape[ax]!, 0);
  const out = alloc("f32", shape, true);
  const outStrides = contiguousStrides(shape);
  const nat = native();
  const offsets: number[] = [];
  let at = 0;
  for (const x of xs) {
    offsets.push(at * outStrides[ax]!);
    // out is zero here: adding x into its slice writes it
    nat.reduceInto(out.f32().subarray(at * outStrides[ax]!), x.f32(), x.shape, outStrides, 1);
    at += x.shape[ax]!;
  }
  return record(op, xs, out, (g) => {
    xs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const part = alloc("f32", x.shape);
      nat.copyStrided(part.f32(), g.f32(), x.shape, outStrides, offsets[i]!);
      nat.axpy(gradOf(x).f32(), 1, part.f32(), x.size);
    });
  });
}
