// Factories for tensors. All of them make contiguous tensors that live outside any workspace.
import { ArgumentError, DTypeError, ShapeError } from "../errors.js";
import { type AnyTypedArray, type DType, allocArray, dtypeOfArray, isDType } from "./dtype.js";
import type { Rng } from "./rng.js";
import { type Shape, formatShape, numel } from "./shape.js";
import { type Tensor, TensorImpl } from "./tensor.js";

function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError({ op, arg: "shape" }, `Expected "shape" to be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

function checkDType(op: string, dtype: unknown): asserts dtype is DType {
  if (!isDType(dtype)) {
    throw new DTypeError({ op, arg: "dtype" }, `Expected "dtype" to be one of f32, i32, f16, bf16, got ${JSON.stringify(dtype)}`);
  }
}

/** A tensor holding `values` (row-major). The shape defaults to [values.length]. */
export function tensor(values: ArrayLike<number>, shape?: Shape, dtype: DType = "f32"): Tensor {
  const sh = shape ?? [values.length];
  checkShape("tensor", sh);
  checkDType("tensor", dtype);
  if (numel(sh) !== values.length) {
    throw new ShapeError({ op: "tensor", arg: "values" }, `${values.length} values do not fill shape ${formatShape(sh)} (${numel(sh)} elements)`);
  }
  const data = allocArray(dtype, values.length);
  if (dtype === "f16" || dtype === "bf16") {
    throw new DTypeError({ op: "tensor", arg: "dtype" }, `build ${dtype} tensors with toF16/toBF16 from an f32 tensor`);
  }
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  return new TensorImpl(dtype, sh, data);
}

/** Wraps a typed array without copying (Uint16Array is read as `half`). */
export function fromArray(data: AnyTypedArray, shape: Shape, half: "f16" | "bf16" = "f16"): Tensor {
  checkShape("fromArray", shape);
  if (numel(shape) !== data.length) {
    throw new ShapeError({ op: "fromArray", arg: "data" }, `${data.length} elements do not fill shape ${formatShape(shape)} (${numel(shape)} elements)`);
  }
  return new TensorImpl(dtypeOfArray(data, half), shape, data);
}

export function zeros(shape: Shape, dtype: DType = "f32"): Tensor {
  checkShape("zeros", shape);
  checkDType("zeros", dtype);
  return new TensorImpl(dtype, shape, allocArray(dtype, numel(shape)));
}

export function full(shape: Shape, value: number, dtype: DType = "f32"): Tensor {
  const t = zeros(shape, dtype) as TensorImpl;
  t.data.fill(value);
  return t;
}

export function ones(shape: Shape, dtype: DType = "f32"): Tensor {
  return full(shape, 1, dtype);
}

/** Normal samples: mean + std * N(0, 1). */
export function randn(shape: Shape, rng: Rng, std = 1, mean = 0): Tensor {
  const t = zeros(shape) as TensorImpl;
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal(mean, std);
  return t;
}

/** Uniform samples in [lo, hi). */
export function rand(shape: Shape, rng: Rng, lo = 0, hi = 1): Tensor {
  const t = zeros(shape) as TensorImpl;
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.uniform(lo, hi);
  return t;
}

/** Integers uniform in [0, n), as i32. */
export function randint(shape: Shape, n: number, rng: Rng): Tensor {
  if (!Number.isInteger(n) || n <= 0) {
    throw new ArgumentError({ op: "randint", arg: "n" }, `Expected "n" to be a positive integer, got ${n}`);
  }
  const t = zeros(shape, "i32") as TensorImpl;
  const d = t.data as Int32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.int(n);
  return t;
}

/** [0, 1, ..., n-1] as i32 (positions). */
export function arange(n: number): Tensor {
  if (!Number.isInteger(n) || n < 0) {
    throw new ArgumentError({ op: "arange", arg: "n" }, `Expected "n" to be a non-negative integer, got ${n}`);
  }
  const t = zeros([n], "i32") as TensorImpl;
  const d = t.data as Int32Array;
  for (let i = 0; i < n; i++) d[i] = i;
  return t;
}

/** A contiguous copy with no autograd history (detached). */
export function clone(t: Tensor): Tensor {
  const src = t as TensorImpl;
  const out = new TensorImpl(src.dtype, src.shape, allocArray(src.dtype, src.size));
  if (src.isContiguous) out.data.set(src.data.subarray(0, src.size));
  else for (let i = 0; i < src.size; i++) out.data[i] = src.data[stridedIndex(src, i)]!;
  return out;
}

function stridedIndex(t: TensorImpl, i: number): number {
  let at = t.offset;
  let rest = i;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    const n = t.shape[d]!;
    at += (rest % n) * t.strides[d]!;
    rest = Math.floor(rest / n);
  }
  return at;
}

/** Copies src's values into dst in place (same shape and dtype; dst contiguous). */
export function copyInto(dst: Tensor, src: Tensor): void {
  if (dst.dtype !== src.dtype || dst.size !== src.size || dst.shape.length !== src.shape.length || dst.shape.some((d, i) => d !== src.shape[i])) {
    throw new ShapeError({ op: "copyInto", arg: "src" }, `cannot copy ${src.dtype} ${formatShape(src.shape)} into ${dst.dtype} ${formatShape(dst.shape)}`);
  }
  const d = dst as TensorImpl;
  const s = src as TensorImpl;
  if (s.isContiguous) d.data.set(s.data.subarray(0, s.size));
  else for (let i = 0; i < s.size; i++) d.data[i] = s.data[stridedIndex(s, i)]!;
}
