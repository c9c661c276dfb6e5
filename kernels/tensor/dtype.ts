// Element types. f32 is the training dtype, i32 holds indices, f16/bf16 are storage formats
// (converted with toF32/toF16/toBF16; ops compute in f32).

export const DType = { f32: "f32", i32: "i32", f16: "f16", bf16: "bf16" } as const;
export type DType = (typeof DType)[keyof typeof DType];

export type TypedArrayOf<D extends DType> = D extends "f32"
  ? Float32Array
  : D extends "i32"
    ? Int32Array
    : Uint16Array;

export type AnyTypedArray = Float32Array | Int32Array | Uint16Array;

export const bytesPerElement: Record<DType, number> = { f32: 4, i32: 4, f16: 2, bf16: 2 };

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DType, value);
}

/** A new zero-filled array of n elements. */
export function allocArray(dtype: DType, n: number): AnyTypedArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(n);
    case "i32":
      return new Int32Array(n);
    default:
      return new Uint16Array(n);
  }
}

/** The dtype that a typed array holds (Uint16Array is f16 unless told otherwise). */
export function dtypeOfArray(data: AnyTypedArray, half: "f16" | "bf16" = "f16"): DType {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Int32Array) return "i32";
  return half;
}
