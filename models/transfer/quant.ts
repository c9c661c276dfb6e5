// Blockwise quantization of hidden states along the channel axis, in the GGML layouts the
// protocol's q8_0 / q4_0 wire dtypes use (blocks of 32 values, an f16 scale d first):
//   int8  q8_0: d = absmax / 127, q = round(x / d)                   34 bytes a block
//   int4  q4_0: d = m / −8 with m the value of largest magnitude,
//         q = min(15, trunc(x / d + 8.5)), value = (q − 8)·d         18 bytes a block
//         (byte j holds value j in its low nibble and value j + 16 in its high nibble)
// A row whose length is not a multiple of 32 is padded with zeros to whole blocks. Scalar
// TypeScript: a [B·T, C] state of the models here is quantized in well under a millisecond.
// Legend: R rows, C channels, nb blocks per row.

export const QBLOCK = 32;
export const INT8_BLOCK_BYTES = 34;
export const INT4_BLOCK_BYTES = 18;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 → IEEE half bits, round to nearest even (overflow → ±Inf, NaN kept). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** IEEE half bits → number. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export const blocksPerRow = (C: number) => Math.ceil(C / QBLOCK);

/** x [R, C] → q8_0 blocks [R, nb, 34]. */
export function quantizeInt8(x: Float32Array, R: number, C: number): Uint8Array {
  const nb = blocksPerRow(C);
  const out = new Uint8Array(R * nb * INT8_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * INT8_BLOCK_BYTES;
      const c0 = b * QBLOCK;
      const n = Math.min(QBLOCK, C - c0);
      let amax = 0;
      for (let i = 0; i < n; i++) amax = Math.max(amax, Math.abs(x[r * C + c0 + i]!));
      const d = amax / 127;
      const id = d ? 1 / d : 0;
      view.setUint16(o, toHalfBits(d), true);
      for (let i = 0; i < n; i++) {
        const v = x[r * C + c0 + i]! * id;
        out[o + 2 + i] = (Math.sign(v) * Math.round(Math.abs(v))) & 0xff; // round half away from zero, as roundf
      }
    }
  }
  return out;
}

export function dequantizeInt8(q: Uint8Array, R: number, C: number): Float32Array {
  const nb = blocksPerRow(C);
  const out = new Float32Array(R * C);
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  const qi = new Int8Array(q.buffer, q.byteOffset, q.byteLength);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * INT8_BLOCK_BYTES;
      const d = fromHalfBits(view.getUint16(o, true));
      const c0 = b * QBLOCK;
      const n = Math.min(QBLOCK, C - c0);
      for (let i = 0; i < n; i++) out[r * C + c0 + i] = d * qi[o + 2 + i]!;
    }
  }
  return out;
}

/** x [R, C] → q4_0 blocks [R, nb, 18]. */
export function quantizeInt4(x: Float32Array, R: number, C: number): Uint8Array {
  const nb = blocksPerRow(C);
  const out = new Uint8Array(R * nb * INT4_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const q = new Uint8Array(QBLOCK);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * INT4_BLOCK_BYTES;
      const c0 = b * QBLOCK;
      const n = Math.min(QBLOCK, C - c0);
      let amax = 0;
      let m = 0;
      for (let i = 0; i < n; i++) {
        const v = x[r * C + c0 + i]!;
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          m = v;
        }
      }
      const d = m / -8;
      const id = d ? 1 / d : 0;
      view.setUint16(o, toHalfBits(d), true);
      q.fill(8);
      for (let i = 0; i < n; i++) q[i] = Math.min(15, Math.trunc(x[r * C + c0 + i]! * id + 8.5));
      for (let j = 0; j < QBLOCK / 2; j++) out[o + 2 + j] = q[j]! | (q[j + QBLOCK / 2]! << 4);
    }
  }
  return out;
}

export function dequantizeInt4(q: Uint8Array, R: number, C: number): Float32Array {
  const nb = blocksPerRow(C);
  const out = new Float32Array(R * C);
  const view = new DataView(q.buffer, q.byteOffset, q.byteLength);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * INT4_BLOCK_BYTES;
      const d = fromHalfBits(view.getUint16(o, true));
      const c0 = b * QBLOCK;
      const n = Math.min(QBLOCK, C - c0);
      for (let i = 0; i < n; i++) {
        const byte = q[o + 2 + (i % (QBLOCK / 2))]!;
        const v = i < QBLOCK / 2 ? byte & 0x0f : byte >> 4;
        out[r * C + c0 + i] = (v - 8) * d;
      }
    }
  }
  return out;
}
