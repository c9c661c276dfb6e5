// Argument checks for the public ops. Each throws a typed error that names the op, the
// argument and the shapes involved, before any native call.
import { ArgumentError, ContiguityError, DTypeError, ShapeError } from "../errors.js";
import type { DType } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import { type Tensor, TensorImpl } from "../tensor/tensor.js";

export const fmt = formatShape;

function describe(t: Tensor): string {
  return `${t.dtype} ${formatShape(t.shape)}`;
}

/** A tensor argument: right class, dtype and contiguity. */
export function expectTensor(op: string, arg: string, t: unknown, dtype: DType = "f32", contiguous = true): TensorImpl {
  if (!(t instanceof TensorImpl)) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a Tensor, got ${t === null ? "null" : typeof t}`);
  }
  if (t.dtype !== dtype) {
    throw new DTypeError({ op, arg }, `Expected "${arg}" to be ${dtype}, got ${describe(t)}`);
  }
  if (contiguous && !t.isContiguous) {
    throw new ContiguityError({ op, arg }, `Expected "${arg}" to be contiguous, got a strided view ${describe(t)} with strides ${formatShape(t.strides)} (call contiguous() first)`);
  }
  return t;
}

export function expectF32(op: string, arg: string, t: unknown): TensorImpl {
  return expectTensor(op, arg, t, "f32");
}

export function expectI32(op: string, arg: string, t: unknown): TensorImpl {
  return expectTensor(op, arg, t, "i32");
}

/** rank in [min, max] */
export function expectRank(op: string, arg: string, t: Tensor, min: number, max = min): void {
  const r = t.shape.length;
  if (r < min || r > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new ShapeError({ op, arg }, `Expected "${arg}" to have rank ${want}, got ${describe(t)}`);
  }
}

/** Exact shape; null entries match any size. */
export function expectShape(op: string, arg: string, t: Tensor, want: readonly (number | null)[], why = ""): void {
  const ok = t.shape.length === want.length && want.every((w, i) => w === null || w === t.shape[i]);
  if (!ok) {
    const pattern = `[${want.map((w) => (w === null ? "*" : w)).join(",")}]`;
    throw new ShapeError({ op, arg }, `Expected "${arg}" to have shape ${pattern}, got ${describe(t)}${why ? ` (${why})` : ""}`);
  }
}

export function expectSameShape(op: string, argA: string, a: Tensor, argB: string, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError({ op, arg: argB }, `Expected "${argB}" to have the shape of "${argA}" ${formatShape(a.shape)}, got ${describe(b)}`);
  }
}

export function expectLastDim(op: string, arg: string, t: Tensor, n: number, why = ""): void {
  const last = t.shape[t.shape.length - 1];
  if (last !== n) {
    throw new ShapeError({ op, arg }, `Expected the last dimension of "${arg}" to be ${n}, got ${describe(t)}${why ? ` (${why})` : ""}`);
  }
}

export function positiveInt(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a positive integer, got ${String(v)}`);
  }
  return v;
}

export function nonNegativeInt(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a non-negative integer, got ${String(v)}`);
  }
  return v;
}

export function finiteNumber(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a finite number, got ${String(v)}`);
  }
  return v;
}

export function positiveNumber(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a positive number, got ${String(v)}`);
  }
  return v;
}

export function nonNegativeNumber(op: string, arg: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a non-negative number, got ${String(v)}`);
  }
  return v;
}

/** A number in [lo, hi) */
export function numberIn(op: string, arg: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== "number" || !(v >= lo && v < hi)) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be a number in [${lo}, ${hi}), got ${String(v)}`);
  }
  return v;
}

export function oneOf<T extends string>(op: string, arg: string, v: unknown, options: readonly T[]): T {
  if (typeof v !== "string" || !(options as readonly string[]).includes(v)) {
    throw new ArgumentError({ op, arg }, `Expected "${arg}" to be one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Every index in [0, n) (or equal to `ignore`). */
export function expectIndices(op: string, arg: string, t: TensorImpl, n: number, ignore?: number): void {
  const d = t.data as Int32Array;
  for (let i = 0; i < t.size; i++) {
    const v = d[i]!;
    if ((v < 0 || v >= n) && v !== ignore) {
      const extra = ignore === undefined ? "" : ` or ${ignore} (ignored)`;
      throw new ArgumentError({ op, arg }, `Expected "${arg}" to hold indices in [0, ${n})${extra}, got ${v} at flat position ${i} of ${describe(t)}`);
    }
  }
}
