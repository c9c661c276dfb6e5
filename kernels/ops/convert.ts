// Storage conversions between f32 and f16/bf16 (round to nearest even). No autograd: these
// are for storing and sending tensors, ops compute in f32.
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor, TensorImpl } from "../tensor/tensor.js";
import { DTypeError } from "../errors.js";
import { expectF32, expectTensor, fmt } from "./validate.js";

export function toF16(x: Tensor): Tensor {
  const xi = expectF32("toF16", "x", x);
  const out = alloc("f16", xi.shape);
  native().f32ToF16(out.data as Uint16Array, xi.f32(), xi.size);
  return out;
}

export function toBF16(x: Tensor): Tensor {
  const xi = expectF32("toBF16", "x", x);
  const out = alloc("bf16", xi.shape);
  native().f32ToBf16(out.data as Uint16Array, xi.f32(), xi.size);
  return out;
}

/** f16, bf16 or i32 → f32 (an f32 tensor is returned as is). */
export function toF32(x: Tensor): Tensor {
  const xi = expectTensor("toF32", "x", x, x?.dtype ?? "f32") as TensorImpl;
  if (xi.dtype === "f32") return xi;
  const out = alloc("f32", xi.shape);
  if (xi.dtype === "f16") native().f16ToF32(out.f32(), xi.data as Uint16Array, xi.size);
  else if (xi.dtype === "bf16") native().bf16ToF32(out.f32(), xi.data as Uint16Array, xi.size);
  else if (xi.dtype === "i32") out.f32().set(xi.data);
  else throw new DTypeError({ op: "toF32", arg: "x" }, `cannot convert ${xi.dtype} ${fmt(xi.shape)}`);
  return out;
}
