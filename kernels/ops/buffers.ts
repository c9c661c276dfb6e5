// Kernels on raw buffers, for code that moves gradients rather than computing with tensors
// (the data-parallel all-reduce in hosts/thunder): dst += src, and f32 ↔ f16/bf16 storage
// conversion (round to nearest even). Same native kernels as the tensor ops (axpy, the
// converters), so they run in every kernel mode with their reference twins; no autograd, no
// workspace. Typed arrays over a SharedArrayBuffer are accepted.
import { native } from "../native/load.js";
import { UnaryOp } from "./codes.js";
import { ArgumentError } from "../errors.js";

function check(op: string, name: string, a: unknown, ctor: typeof Float32Array | typeof Uint16Array): void {
  if (!(a instanceof ctor)) throw new ArgumentError({ op, arg: name }, `Expected "${name}" to be a ${ctor.name}, got ${a?.constructor?.name ?? typeof a}`);
}

function sameLength(op: string, a: ArrayBufferView & { length: number }, b: ArrayBufferView & { length: number }): void {
  if (a.length !== b.length) throw new ArgumentError({ op, arg: "src" }, `Expected "dst" and "src" to have the same length, got ${a.length} and ${b.length}`);
}

/** dst[i] += src[i] (exactly rounded f32 adds, as dst + src would be). */
export function addInto(dst: Float32Array, src: Float32Array): void {
  check("addInto", "dst", dst, Float32Array);
  check("addInto", "src", src, Float32Array);
  sameLength("addInto", dst, src);
  if (dst.length) native().axpy(dst, 1, src, dst.length);
}

/** dst[i] *= s. */
export function scaleInPlace(dst: Float32Array, s: number): void {
  check("scaleInPlace", "dst", dst, Float32Array);
  if (!Number.isFinite(s)) throw new ArgumentError({ op: "scaleInPlace", arg: "s" }, `Expected "s" to be a finite number, got ${s}`);
  if (dst.length && s !== 1) native().unaryForward(dst, dst, dst.length, UnaryOp.scale, s);
}

/** f32 → f16 or bf16 bit patterns (round to nearest even). */
export function encodeHalf(out: Uint16Array, src: Float32Array, dtype: "f16" | "bf16"): void {
  check("encodeHalf", "out", out, Uint16Array);
  check("encodeHalf", "src", src, Float32Array);
  sameLength("encodeHalf", out, src);
  if (!src.length) return;
  if (dtype === "f16") native().f32ToF16(out, src, src.length);
  else if (dtype === "bf16") native().f32ToBf16(out, src, src.length);
  else throw new ArgumentError({ op: "encodeHalf", arg: "dtype" }, `Expected "dtype" to be f16 or bf16, got ${JSON.stringify(dtype)}`);
}

/** f16 or bf16 bit patterns → f32 (exact). */
export function decodeHalf(out: Float32Array, src: Uint16Array, dtype: "f16" | "bf16"): void {
  check("decodeHalf", "out", out, Float32Array);
  check("decodeHalf", "src", src, Uint16Array);
  sameLength("decodeHalf", out, src);
  if (!src.length) return;
  if (dtype === "f16") native().f16ToF32(out, src, src.length);
  else if (dtype === "bf16") native().bf16ToF32(out, src, src.length);
  else throw new ArgumentError({ op: "decodeHalf", arg: "dtype" }, `Expected "dtype" to be f16 or bf16, got ${JSON.stringify(dtype)}`);
}
