// quant - ggml's Q8_0/Q4_0 blocks (guards #12): the bytes equal an independent transcription of
// ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref, the fast kernels equal the reference in
// every mode, and the round trip stays within the bound each format allows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { K, fastModes, reference } from "./helpers.js";

const f16 = (x: number) => K.halfToFloat(halfBits(x));
// f32 → f16 bits, round to nearest even (an independent transcription, not the addon's)
function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const e = (u >>> 23) & 0xff;
  let m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let ee = e - 127 + 15;
  if (ee >= 31) return sign | 0x7c00;
  if (ee <= 0) {
    if (ee < -10) return sign;
    m |= 0x800000;
    const shift = 14 - ee;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (ee << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** ggml's quantize_row_q8_0_ref in float32 arithmetic. */
function ggmlQ8(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34);
  const F = Math.fround;
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
    const d = F(amax / 127), id = d ? F(1 / d) : 0;
    const h = halfBits(d);
    out[b * 34] = h & 0xff;
    out[b * 34 + 1] = h >> 8;
    for (let j = 0; j < 32; j++) {
      const v = F(x[b * 32 + j]! * id);
      out[b * 34 + 2 + j] = (Math.sign(v) * Math.round(Math.abs(v))) & 0xff; // roundf: half away from zero
    }
  }
  return out;
}

/** ggml's quantize_row_q4_0_ref in float32 arithmetic. */
function ggmlQ4(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 18);
  const F = Math.fround;
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0, max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j]!;
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
    }
    const d = F(max / -8), id = d ? F(1 / d) : 0;
    const h = halfBits(d);
    out[b * 18] = h & 0xff;
    out[b * 18 + 1] = h >> 8;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(F(F(x[b * 32 + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(F(F(x[b * 32 + 16 + j]! * id) + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

function data(n: number, seed: number): Float32Array {
  const x = K.randn([n], K.createRng(seed), 1).f32().slice();
  // a zero block, a block with one huge outlier, a block of equal values, tiny values
  x.fill(0, 0, 32);
  x[40] = 50;
  x.fill(-0.25, 64, 96);
  for (let i = 96; i < 128; i++) x[i]! *= 1e-6;
  return x;
}

test("quant - Q8_0 and Q4_0 bytes equal ggml's reference quantisers", () => {
  const x = data(32 * 64, 1);
  assert.deepEqual(K.quantizeBlocks(x, "q8_0"), ggmlQ8(x));
  assert.deepEqual(K.quantizeBlocks(x, "q4_0"), ggmlQ4(x));
  assert.equal(K.blockBytes("q8_0", 64), 68);
  assert.equal(K.blockBytes("q4_0", 64), 36);
});

test("quant - the fast block kernels equal the reference bytes in every mode (threaded sizes too)", () => {
  const x = data(32 * 4099, 2);
  for (const type of ["q8_0", "q4_0"] as const) {
    const want = reference(() => K.quantizeBlocks(x, type));
    const wantBack = reference(() => K.dequantizeBlocks(want, type, x.length));
    for (const mode of fastModes()) {
      const got = K.withKernels({ mode }, () => K.quantizeBlocks(x, type));
      assert.deepEqual(got, want, `${type} ${mode}`);
      assert.deepEqual(K.withKernels({ mode }, () => K.dequantizeBlocks(got, type, x.length)), wantBack, `${type} ${mode} dequantize`);
    }
  }
});

/** Per element: |x − x̂| ≤ |d|/2 + |q|·|d − d₁₆| (the stored scale d₁₆ is d rounded to f16). */
function check(x: Float32Array, type: "q8_0" | "q4_0"): { worst: number; clamped: number } {
  const bytes = K.quantizeBlocks(x, type);
  const back = K.dequantizeBlocks(bytes, type, x.length);
  let worst = 0, clamped = 0;
  for (let b = 0; b < x.length / 32; b++) {
    const d16 = Math.abs(K.blockScale(bytes, type, b));
    let amax = 0, max = 0;
    for (let j = 0; j < 32; j++) if (Math.abs(x[b * 32 + j]!) > amax) { amax = Math.abs(x[b * 32 + j]!); max = x[b * 32 + j]!; }
    const d32 = type === "q8_0" ? amax / 127 : Math.abs(max / 8);
    for (let j = 0; j < 32; j++) {
      const i = b * 32 + j;
      const err = Math.abs(x[i]! - back[i]!);
      const q = d32 > 0 ? Math.round(Math.abs(x[i]!) / d32) : 0; // the level, from the unrounded scale
      // Q4_0: the value opposite in sign to max above 7.5|d| clamps to nibble 15 (+7|d|): off by ≤ |d|
      const isClamped = type === "q4_0" && d16 > 0 && Math.sign(x[i]!) !== Math.sign(max) && Math.abs(x[i]!) > 7.5 * d32;
      if (isClamped) {
        clamped++;
        assert.ok(err <= d16 + 8 * Math.abs(d32 - d16) + 1e-12, `${type} clamped element ${i}: error ${err} > |d| ${d16}`);
        continue;
      }
      // |x − q·d₁₆| ≤ |x − q·d| + q·|d − d₁₆| ≤ d/2 + q·|d − d₁₆| (d₁₆ may underflow to 0 for tiny blocks)
      const bound = Math.max(d16, d32) / 2 + q * Math.abs(d32 - d16) + 1e-12;
      assert.ok(err <= bound, `${type} element ${i}: error ${err} > d/2 ${d16 / 2} (+ f16 slack ${q * Math.abs(d32 - d16)})`);
      if (d16 >= 2 ** -14) worst = Math.max(worst, err / d16); // normal f16 scales (subnormal ones carry fewer bits)
    }
  }
  return { worst, clamped };
}

test("quant - the round trip is within d/2 per element (plus the f16 rounding of d); Q4_0's clamped edge within |d|", () => {
  for (const seed of [3, 4, 5]) {
    const x = data(32 * 512, seed);
    const q8 = check(x, "q8_0");
    const q4 = check(x, "q4_0");
    assert.ok(q8.worst <= 0.5 + 127 * 2 ** -11, `q8_0 worst ${q8.worst}`);
    assert.ok(q4.worst <= 0.5 + 8 * 2 ** -11, `q4_0 worst ${q4.worst}`);
    assert.ok(q4.clamped > 0, "random blocks reach Q4_0's clamped edge");
  }
});

test("quant - the bound catches a wrong scale and a flipped nibble", () => {
  const x = data(32 * 16, 6);
  const bytes = K.quantizeBlocks(x, "q4_0");
  const bad = bytes.slice();
  bad[18 * 5 + 5] ^= 0x11; // two elements of block 5 off by a level (or more)
  const back = K.dequantizeBlocks(bad, "q4_0", x.length);
  const d = Math.abs(K.blockScale(bad, "q4_0", 5));
  let worst = 0;
  for (let j = 0; j < 32; j++) worst = Math.max(worst, Math.abs(back[160 + j]! - x[160 + j]!));
  assert.ok(worst > d / 2 + 1e-6, `a flipped nibble moves the value by ≥ d (${worst} vs d ${d})`);
  const q8 = K.quantizeBlocks(x, "q8_0");
  q8[34 * 2 + 1] ^= 0x04; // the f16 scale of block 2
  const back8 = K.dequantizeBlocks(q8, "q8_0", x.length);
  let moved = 0;
  for (let j = 0; j < 32; j++) moved = Math.max(moved, Math.abs(back8[64 + j]! - x[64 + j]!));
  assert.ok(moved > 0.01, `a corrupted scale shows: ${moved}`);
});

test("quant - block sizes and non-finite values are refused with typed errors", () => {
  assert.throws(() => K.quantizeBlocks(new Float32Array(33), "q8_0"), (e: unknown) => K.isArgumentError(e) && /multiple of 32/.test((e as Error).message));
  const x = new Float32Array(32);
  x[7] = NaN;
  assert.throws(() => K.quantizeBlocks(x, "q4_0"), /finite values, got NaN at index 7/);
  assert.throws(() => K.quantizeBlocks(new Float32Array(32), "q5_0" as never), /"q8_0" or "q4_0"/);
  assert.throws(() => K.dequantizeBlocks(new Uint8Array(10), "q8_0", 32), /34 bytes/);
  assert.equal(f16(0.1), K.blockScale(K.quantizeBlocks(new Float32Array(32).fill(12.7), "q8_0"), "q8_0", 0));
});
