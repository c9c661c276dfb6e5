// ggml's block quantisation (llama.cpp ggml-common.h / ggml-quants.c): Q8_0 and Q4_0 blocks of
// 32 values with an f16 scale, the formats GGUF stores and llama.cpp computes with. The bytes
// are ggml's own: quantize_row_q8_0_ref / quantize_row_q4_0_ref step for step (native kernels,
// a reference twin beside the threaded one).
//   Q8_0: { f16 d; int8 qs[32] }   34 bytes / 32 values   x ≈ qs[j]·d,        d = absmax/127
//   Q4_0: { f16 d; uint8 qs[16] }  18 bytes / 32 values   x ≈ (nibble − 8)·d, d = max/−8 where
//         max is the value of largest magnitude; element j is the low nibble of qs[j], element
//         j+16 the high one. The value opposite in sign to max can land on nibble 15 = +7·|d|,
//         so an element of magnitude in (7.5|d|, 8|d|] of that sign is off by up to |d|.
// Legend: n element count (a multiple of 32).
import { ArgumentError } from "../errors.js";
import { native } from "../native/load.js";

export const BlockType = { q8_0: "q8_0", q4_0: "q4_0" } as const;
export type BlockType = (typeof BlockType)[keyof typeof BlockType];

export const BLOCK_SIZE = 32;
/** Bytes of one block of 32 values. */
export const BLOCK_BYTES: Record<BlockType, number> = { q8_0: 34, q4_0: 18 };

function check(op: string, type: unknown, n: number): BlockType {
  if (type !== "q8_0" && type !== "q4_0") {
    throw new ArgumentError({ op, arg: "type" }, `Expected "type" to be "q8_0" or "q4_0", got ${JSON.stringify(type)}`);
  }
  if (!Number.isInteger(n) || n < 0 || n % BLOCK_SIZE !== 0) {
    throw new ArgumentError({ op, arg: "n" }, `Expected a number of values that is a multiple of ${BLOCK_SIZE}, got ${n}`);
  }
  return type;
}

/** Bytes that n values take in blocks of the given type. */
export function blockBytes(type: BlockType, n: number): number {
  return (check("blockBytes", type, n) && n / BLOCK_SIZE) * BLOCK_BYTES[type];
}

/** Quantises values (length a multiple of 32) into ggml blocks. */
export function quantizeBlocks(values: Float32Array, type: BlockType): Uint8Array {
  const t = check("quantizeBlocks", type, values?.length);
  const out = new Uint8Array((values.length / BLOCK_SIZE) * BLOCK_BYTES[t]);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new ArgumentError({ op: "quantizeBlocks", arg: "values" }, `Expected finite values, got ${values[i]} at index ${i}`);
    }
  }
  if (t === "q8_0") native().quantizeQ80(out, values, values.length);
  else native().quantizeQ40(out, values, values.length);
  return out;
}

/** Dequantises n values from ggml blocks. */
export function dequantizeBlocks(bytes: Uint8Array, type: BlockType, n: number): Float32Array {
  const t = check("dequantizeBlocks", type, n);
  const need = (n / BLOCK_SIZE) * BLOCK_BYTES[t];
  if (!(bytes instanceof Uint8Array) || bytes.length < need) {
    throw new ArgumentError({ op: "dequantizeBlocks", arg: "bytes" }, `Expected ${need} bytes of ${t} blocks for ${n} values, got ${bytes?.length}`);
  }
  const out = new Float32Array(n);
  if (t === "q8_0") native().dequantizeQ80(out, bytes, n);
  else native().dequantizeQ40(out, bytes, n);
  return out;
}

/** The stored f16 scale d of block b, as f32. */
export function blockScale(bytes: Uint8Array, type: BlockType, b: number): number {
  const off = b * BLOCK_BYTES[type];
  return halfToFloat(bytes[off]! | (bytes[off + 1]! << 8));
}

/** Values after a round trip through the blocks (what llama.cpp computes with). */
export function roundTripBlocks(values: Float32Array, type: BlockType): Float32Array {
  return dequantizeBlocks(quantizeBlocks(values, type), type, values.length);
}

/** IEEE half bits → number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
