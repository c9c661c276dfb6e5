// The tensor: a typed array, a shape and strides, plus the autograd fields. Contiguous tensors
// own exactly `size` elements of `data` from index 0; strided views (transpose, permute) keep
// the base's data with an element offset and must be made contiguous before most ops.
import { ArgumentError, DTypeError } from "../errors.js";
import { type AnyTypedArray, type DType, allocArray } from "./dtype.js";
import { type Shape, contiguousStrides, formatShape, isContiguousLayout, numel } from "./shape.js";

/** The autograd record of the op that produced a tensor (see kernels/autograd). */
export interface GradNode {
  /** The op tag, e.g. "matmul", "layerNorm". */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Creation order: reverse order is a valid backward order (the tape). */
  readonly seq: number;
  /** Accumulates the input gradients given the gradient of the output. */
  backward(gradOut: Tensor): void;
}

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** Element offset of a strided view into `data` (0 for contiguous tensors). */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  readonly data: AnyTypedArray;
  readonly isContiguous: boolean;
  /** Leaves with requiresGrad get a `.grad` that backward accumulates into. */
  requiresGrad: boolean;
  grad: Tensor | null;
  /** The op that produced this tensor when it was recorded, else null (a leaf). */
  readonly node: GradNode | null;
  /** An optional name (parameters carry their path, e.g. "h.0.qkv.weight"). */
  name: string | null;
  /** The f32 data (throws for other dtypes). */
  f32(): Float32Array;
  /** The i32 data (throws for other dtypes). */
  i32(): Int32Array;
  /** The single value of a one-element tensor. */
  item(): number;
  /** The values in row-major order as plain numbers. */
  toArray(): number[];
  toString(): string;
}

export class TensorImpl implements Tensor {
  dtype: DType;
  shape: number[];
  strides: number[];
  offset: number;
  size: number;
  data: AnyTypedArray;
  isContiguous: boolean;
  requiresGrad = false;
  grad: TensorImpl | null = null;
  node: GradNode | null = null;
  name: string | null = null;
  /** For a strided view: the contiguous tensor whose data it reads (autograd flows to it). */
  base: TensorImpl | null = null;

  constructor(dtype: DType, shape: Shape, data: AnyTypedArray, strides?: readonly number[], offset = 0) {
    this.dtype = dtype;
    this.shape = shape.slice();
    this.size = numel(shape);
    this.strides = strides ? strides.slice() : contiguousStrides(shape);
    this.offset = offset;
    this.data = data;
    this.isContiguous = offset === 0 && isContiguousLayout(this.shape, this.strides);
  }

  /** Re-targets a recycled tensor (arena slots) to a new shape of the same size. */
  reuse(shape: Shape): this {
    this.shape = shape.slice();
    this.strides = contiguousStrides(shape);
    this.requiresGrad = false;
    this.grad = null;
    this.node = null;
    this.name = null;
    this.base = null;
    return this;
  }

  f32(): Float32Array {
    if (this.dtype !== "f32") {
      throw new DTypeError({ op: "f32", arg: "tensor" }, `expected an f32 tensor, got ${this.dtype} ${formatShape(this.shape)}`);
    }
    return this.data as Float32Array;
  }

  i32(): Int32Array {
    if (this.dtype !== "i32") {
      throw new DTypeError({ op: "i32", arg: "tensor" }, `expected an i32 tensor, got ${this.dtype} ${formatShape(this.shape)}`);
    }
    return this.data as Int32Array;
  }

  item(): number {
    if (this.size !== 1) {
      throw new ArgumentError({ op: "item", arg: "tensor" }, `item() needs a one-element tensor, got shape ${formatShape(this.shape)}`);
    }
    return this.valueAt(0);
  }

  toArray(): number[] {
    const out = new Array<number>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.valueAt(i);
    return out;
  }

  /** The i-th element in row-major order (honours strides). */
  valueAt(i: number): number {
    let at = this.offset;
    if (this.isContiguous) at = i;
    else {
      let rest = i;
      for (let d = this.shape.length - 1; d >= 0; d--) {
        const n = this.shape[d]!;
        at += (rest % n) * this.strides[d]!;
        rest = Math.floor(rest / n);
      }
    }
    const v = this.data[at]!;
    if (this.dtype === "f16" || this.dtype === "bf16") return halfToNumber(v, this.dtype);
    return v;
  }

  toString(): string {
    const head = this.toArray().slice(0, 8).map((v) => +v.toPrecision(5));
    return `Tensor(${this.dtype} ${formatShape(this.shape)} [${head.join(", ")}${this.size > 8 ? ", ..." : ""}])`;
  }
}

function halfToNumber(bits: number, dtype: "f16" | "bf16"): number {
  if (dtype === "bf16") {
    const f = new Float32Array(new Uint32Array([bits << 16]).buffer);
    return f[0]!;
  }
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A fresh contiguous tensor (zero-filled). */
export function newTensor(dtype: DType, shape: Shape): TensorImpl {
  return new TensorImpl(dtype, shape, allocArray(dtype, numel(shape)));
}

export function impl(t: Tensor): TensorImpl {
  return t as TensorImpl;
}
