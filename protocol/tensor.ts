// The wire tensor: dtype, shape and little-endian bytes. The kernels layer wraps one without a
// copy (`data` is a view), and decoding hands out views into the received message.
import { DtypeError, EncodeError, NaNError, ShapeMismatchError } from "./errors.js";
import { type Dtype, byteLengthOf, dtypeInfo, isDtype } from "./dtype.js";

export interface WireTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** the raw bytes, row-major, little-endian; a view, never assume it owns its buffer */
  readonly data: Uint8Array;
}

/** The class msgpackr recognises for the tensor extension; use `wireTensor()` to make one. */
export class WireTensorImpl implements WireTensor {
  constructor(
    readonly dtype: Dtype,
    readonly shape: readonly number[],
    readonly data: Uint8Array,
  ) {}
  /** a short summary, so logging or JSON-printing a tensor never dumps its bytes */
  toJSON(): { dtype: Dtype; shape: readonly number[]; bytes: number } {
    return { dtype: this.dtype, shape: this.shape, bytes: this.data.byteLength };
  }
}

export function isWireTensor(value: unknown): value is WireTensor {
  return value instanceof WireTensorImpl;
}

/** Checks that `data` holds exactly the bytes `dtype` and `shape` need; throws ShapeMismatchError. */
export function checkTensor(dtype: Dtype, shape: readonly number[], bytes: number): void {
  if (!isDtype(dtype)) throw new DtypeError(`unknown dtype ${JSON.stringify(dtype)}`);
  const want = byteLengthOf(dtype, shape);
  if (typeof want === "string") throw new ShapeMismatchError(`invalid ${dtype} shape: ${want}`);
  if (want !== bytes) {
    throw new ShapeMismatchError(`${dtype}[${shape.join(",")}] needs ${want} bytes but carries ${bytes}`);
  }
}

/** A wire tensor over existing bytes (no copy). Throws EncodeError when the sizes disagree. */
export function wireTensor(dtype: Dtype, shape: readonly number[], data: ArrayBufferView): WireTensor {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  try {
    checkTensor(dtype, shape, bytes.byteLength);
  } catch (err) {
    throw new EncodeError(`cannot build tensor: ${(err as Error).message}`, { cause: err });
  }
  return new WireTensorImpl(dtype, Object.freeze([...shape]), bytes);
}

type TypedFor = {
  f32: Float32Array;
  i32: Int32Array;
  i8: Int8Array;
  u8: Uint8Array;
  f16: Uint16Array;
  bf16: Uint16Array;
};

/** A typed array of the element type (raw bit patterns for f16/bf16). */
export type TypedView<D extends Dtype> = D extends keyof TypedFor ? TypedFor[D] : Uint8Array;

const ctor = {
  f32: Float32Array,
  i32: Int32Array,
  i8: Int8Array,
  u8: Uint8Array,
  f16: Uint16Array,
  bf16: Uint16Array,
} as const;

/**
 * A typed view of the tensor's elements. Zero-copy when `data.byteOffset` is a multiple of the
 * element size (always true for 1-byte types); otherwise the bytes are copied once into an
 * aligned buffer. Block-quantized dtypes return their raw bytes.
 */
export function typedView<D extends Dtype>(t: WireTensor & { dtype: D }): TypedView<D> {
  type AnyCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;
  const C = (ctor as unknown as Record<string, (AnyCtor & { BYTES_PER_ELEMENT: number }) | undefined>)[t.dtype];
  if (!C) return t.data as TypedView<D>;
  const size = C.BYTES_PER_ELEMENT;
  const n = t.data.byteLength / size;
  if (t.data.byteOffset % size === 0) return new C(t.data.buffer, t.data.byteOffset, n) as TypedView<D>;
  const copy = new Uint8Array(t.data.byteLength);
  copy.set(t.data);
  return new C(copy.buffer, 0, n) as TypedView<D>;
}

/** True when `typedView(t)` would not copy. */
export function isAligned(t: WireTensor): boolean {
  const info = dtypeInfo(t.dtype);
  return info.blockValues > 1 || t.data.byteOffset % info.blockBytes === 0;
}

/** Builds a tensor from a typed array of the matching element type (no copy). */
export function fromTyped(dtype: "f32", shape: readonly number[], values: Float32Array): WireTensor;
export function fromTyped(dtype: "i32", shape: readonly number[], values: Int32Array): WireTensor;
export function fromTyped(dtype: "i8", shape: readonly number[], values: Int8Array): WireTensor;
export function fromTyped(dtype: "u8", shape: readonly number[], values: Uint8Array): WireTensor;
export function fromTyped(dtype: "f16" | "bf16", shape: readonly number[], values: Uint16Array): WireTensor;
export function fromTyped(dtype: Dtype, shape: readonly number[], values: ArrayBufferView): WireTensor {
  return wireTensor(dtype, shape, values);
}

const SCRATCH_BYTES = 64 * 1024;
const scratchF32 = new Float32Array(SCRATCH_BYTES / 4);
const scratchBytes = new Uint8Array(scratchF32.buffer);

/**
 * x·0 is NaN exactly when x is NaN or ±Infinity; four independent accumulators let V8 keep the
 * pipeline full (about 4× a compare-per-element loop). A NaN sum is confirmed by an exact
 * scan, so infinities are never reported as NaN.
 */
function f32HasNaN(f: Float32Array): boolean {
  let a = 0, b = 0, c = 0, d = 0;
  const n4 = f.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    a += f[i]! * 0;
    b += f[i + 1]! * 0;
    c += f[i + 2]! * 0;
    d += f[i + 3]! * 0;
  }
  for (let i = n4; i < f.length; i++) a += f[i]! * 0;
  const s = a + b + c + d;
  if (s === s) return false;
  for (let i = 0; i < f.length; i++) if (f[i] !== f[i]) return true;
  return false;
}

/** Whether any element (or block scale) is NaN. Reads the bytes in place. */
export function hasNaN(t: WireTensor): boolean {
  const info = dtypeInfo(t.dtype);
  if (!info.float || t.data.byteLength === 0) return false;
  const { data } = t;
  if (t.dtype === "f32") {
    if (data.byteOffset % 4 === 0) return f32HasNaN(new Float32Array(data.buffer, data.byteOffset, data.byteLength >>> 2));
    // unaligned: scan through an aligned scratch buffer, one L2-sized chunk at a time
    for (let off = 0; off < data.byteLength; off += SCRATCH_BYTES) {
      const n = Math.min(SCRATCH_BYTES, data.byteLength - off);
      scratchBytes.set(data.subarray(off, off + n));
      if (f32HasNaN(scratchF32.subarray(0, n >>> 2))) return true;
    }
    return false;
  }
  if (t.dtype === "f16" || t.dtype === "bf16") {
    // f16 NaN: exponent 0x7c00 all ones and a non-zero mantissa; bf16: 0x7f80 and 0x007f.
    const [exp, man] = t.dtype === "f16" ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
    for (let i = 0; i < data.byteLength; i += 2) {
      const h = data[i]! | (data[i + 1]! << 8);
      if ((h & exp) === exp && (h & man) !== 0) return true;
    }
    return false;
  }
  // block formats: a NaN scale makes the whole block NaN
  for (let b = info.scaleOffset; b < data.byteLength; b += info.blockBytes) {
    const h = data[b]! | (data[b + 1]! << 8);
    if ((h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0) return true;
  }
  return false;
}

/** Throws NaNError when the tensor holds NaN. */
export function assertNoNaN(t: WireTensor, path = "tensor"): void {
  if (hasNaN(t)) throw new NaNError(path);
}
