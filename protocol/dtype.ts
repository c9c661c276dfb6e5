// Tensor element types on the wire and how many bytes a shape of each needs.
//
// Plain dtypes store one little-endian element per value. Block-quantized dtypes follow the
// GGML layouts, quantized along the LAST dimension (which must be a multiple of the block):
//   q8_0  blocks of 32 values: f16 scale d, then 32 × int8 q;        value = d·q      34 bytes
//   q4_0  blocks of 32 values: f16 scale d, then 16 bytes of nibbles; value = d·(q−8) 18 bytes
//         (byte j holds value j in its low nibble and value j+16 in its high nibble)
//   tq    ternary, GGML TQ2_0: blocks of 256 values: 64 bytes of 2-bit codes c ∈ {0,1,2},
//         then an f16 scale d; value = d·(c−1)                                    66 bytes
//         (code of value 128·h + 32·n + m sits in bits 2n..2n+1 of byte 32·h + m)
// Shapes are row-major; rows = product of all dimensions but the last.

export const Dtype = {
  f32: "f32",
  f16: "f16",
  bf16: "bf16",
  i8: "i8",
  u8: "u8",
  i32: "i32",
  q8_0: "q8_0",
  q4_0: "q4_0",
  tq: "tq",
} as const;
export type Dtype = (typeof Dtype)[keyof typeof Dtype];

export interface DtypeInfo {
  readonly dtype: Dtype;
  /** one-byte code on the wire; never reuse a retired code */
  readonly code: number;
  /** values per block (1 for plain dtypes) */
  readonly blockValues: number;
  /** bytes per block (the element size for plain dtypes) */
  readonly blockBytes: number;
  /** byte offset of the f16 scale inside a block, or -1 for plain dtypes */
  readonly scaleOffset: number;
  /** true for dtypes that can hold NaN (float elements or float block scales) */
  readonly float: boolean;
}

const table: readonly DtypeInfo[] = [
  { dtype: "f32", code: 0, blockValues: 1, blockBytes: 4, scaleOffset: -1, float: true },
  { dtype: "f16", code: 1, blockValues: 1, blockBytes: 2, scaleOffset: -1, float: true },
  { dtype: "bf16", code: 2, blockValues: 1, blockBytes: 2, scaleOffset: -1, float: true },
  { dtype: "i8", code: 3, blockValues: 1, blockBytes: 1, scaleOffset: -1, float: false },
  { dtype: "u8", code: 4, blockValues: 1, blockBytes: 1, scaleOffset: -1, float: false },
  { dtype: "i32", code: 5, blockValues: 1, blockBytes: 4, scaleOffset: -1, float: false },
  { dtype: "q8_0", code: 6, blockValues: 32, blockBytes: 34, scaleOffset: 0, float: true },
  { dtype: "q4_0", code: 7, blockValues: 32, blockBytes: 18, scaleOffset: 0, float: true },
  { dtype: "tq", code: 8, blockValues: 256, blockBytes: 66, scaleOffset: 64, float: true },
];

const byName = new Map<string, DtypeInfo>(table.map((d) => [d.dtype, d]));
const byCode: (DtypeInfo | undefined)[] = [];
for (const d of table) byCode[d.code] = d;

export const DTYPES: readonly Dtype[] = table.map((d) => d.dtype);

export function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && byName.has(value);
}

export function dtypeInfo(dtype: Dtype): DtypeInfo {
  const info = byName.get(dtype);
  if (!info) throw new TypeError(`unknown dtype ${JSON.stringify(dtype)}; expected one of ${DTYPES.join(" ")}`);
  return info;
}

export function dtypeFromCode(code: number): DtypeInfo | undefined {
  return byCode[code];
}

/** Largest rank a wire tensor may have. */
export const MAX_RANK = 8;

/**
 * Bytes a tensor of this dtype and shape occupies, or a string saying why the shape is invalid.
 * Returns a string instead of throwing so decoders can choose their error class.
 */
export function byteLengthOf(dtype: Dtype, shape: readonly number[]): number | string {
  const info = dtypeInfo(dtype);
  if (shape.length > MAX_RANK) return `rank ${shape.length} exceeds the maximum of ${MAX_RANK}`;
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) return `dimension ${i} is ${d}, not a non-negative integer`;
    count *= d;
  }
  if (!Number.isSafeInteger(count)) return `shape [${shape.join(",")}] has too many elements`;
  if (info.blockValues === 1) return count * info.blockBytes;
  const last = shape.length === 0 ? 1 : shape[shape.length - 1]!;
  if (last % info.blockValues !== 0) {
    return `${dtype} quantizes the last dimension in blocks of ${info.blockValues}, but it is ${last}`;
  }
  return (count / info.blockValues) * info.blockBytes;
}

/** Number of values (not bytes) in a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
