// Block-quantised weights, QLoRA's frozen base: W [OC, C] in blocks of 32 consecutive elements
// of a row, one f32 scale per block. 8 bits: w ≈ scale·q, q = round(w/scale) in [-127, 127],
// scale = absmax/127. 4 bits (Q4_0, symmetric): w ≈ scale·(code − 8), code − 8 = round(w/scale)
// clamped to [-8, 7], scale = absmax/7; two codes per byte, even elements in the low nibble.
// qlinear dequantises W a tile of rows at a time inside the GEMM (ops/composite.cc, the table's
// qdequant_rows: a naive reference twin and an optimized one), so the f32 weight never exists
// whole; the weight is frozen: only x gets a gradient.
// Legend: N rows, C in features, OC out features.
import { gradOf, record } from "../autograd/graph.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import { fromArray } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { expectF32, expectRank, fmt } from "./validate.js";

export const QUANT_BLOCK = 32;
export type QuantBits = 4 | 8;

export interface QuantizedWeight {
  readonly bits: QuantBits;
  /** OC */
  readonly rows: number;
  /** C, a multiple of QUANT_BLOCK */
  readonly cols: number;
  /** int8 values (bits 8) or packed 4-bit codes (bits 4) */
  readonly q: Uint8Array;
  /** one per block: [rows · cols / QUANT_BLOCK] */
  readonly scale: Float32Array;
}

/** Bytes a quantised [rows, cols] weight takes (codes and scales). */
export function quantizedBytes(w: QuantizedWeight): number {
  return w.q.byteLength + w.scale.byteLength;
}

/** Quantises a [OC, C] f32 weight (C a multiple of 32) to `bits` per element plus a scale per block. */
export function quantize(weight: Tensor, bits: QuantBits): QuantizedWeight {
  const op = "quantize";
  const wi = expectF32(op, "weight", weight);
  expectRank(op, "weight", wi, 2);
  if (bits !== 4 && bits !== 8) throw new ArgumentError({ op, arg: "bits" }, `Expected bits 4 or 8, got ${JSON.stringify(bits)}`);
  const [rows, cols] = wi.shape as [number, number];
  if (cols % QUANT_BLOCK !== 0) throw new ShapeError({ op, arg: "weight" }, `Expected the in-features of "weight" ${fmt(wi.shape)} to be a multiple of the quantisation block (${QUANT_BLOCK})`);
  const w = wi.f32();
  const n = rows * cols;
  const q = new Uint8Array(bits === 8 ? n : n / 2);
  const scale = new Float32Array(n / QUANT_BLOCK);
  const qmax = bits === 8 ? 127 : 7;
  const qmin = bits === 8 ? -127 : -8;
  for (let b = 0; b < scale.length; b++) {
    const base = b * QUANT_BLOCK;
    let amax = 0;
    for (let j = 0; j < QUANT_BLOCK; j++) amax = Math.max(amax, Math.abs(w[base + j]!));
    if (!Number.isFinite(amax)) throw new ArgumentError({ op, arg: "weight" }, `"weight" has a NaN or an infinity in block ${b} (row ${Math.floor(base / cols)})`);
    const s = Math.fround(amax / qmax);
    scale[b] = s;
    const inv = s === 0 ? 0 : 1 / s;
    for (let j = 0; j < QUANT_BLOCK; j++) {
      const v = Math.min(qmax, Math.max(qmin, Math.round(w[base + j]! * inv)));
      const e = base + j;
      if (bits === 8) q[e] = v & 0xff;
      else q[e >> 1]! |= (v + 8) << ((e & 1) * 4);
    }
  }
  return { bits, rows, cols, q, scale };
}

/** The f32 weight [OC, C] a quantised one stands for (the kernel's dequantisation). */
export function dequantize(w: QuantizedWeight): Tensor {
  const out = new Float32Array(w.rows * w.cols);
  native().qdequantRows(out, w.q, w.scale, 0, w.rows, w.cols, w.rows, w.bits);
  return fromArray(out, [w.rows, w.cols]);
}

/** x [..., C] · Wᵀ (+ bias) → [..., OC] with W quantised and frozen (x gets a gradient, W none). */
export function qlinear(x: Tensor, weight: QuantizedWeight, bias: Tensor | null = null): Tensor {
  const op = "qlinear";
  const xi = expectF32(op, "x", x);
  expectRank(op, "x", xi, 1, Infinity);
  const C = xi.shape[xi.shape.length - 1]!;
  if (C !== weight.cols) throw new ShapeError({ op, arg: "x" }, `Expected "x" ${fmt(xi.shape)} to have ${weight.cols} features (the quantised weight is [${weight.rows}, ${weight.cols}])`);
  const OC = weight.rows;
  const bi = bias === null ? null : expectF32(op, "bias", bias);
  if (bi && bi.size !== OC) throw new ShapeError({ op, arg: "bias" }, `Expected "bias" to be [${OC}], got ${fmt(bi.shape)}`);
  const N = xi.size / C;
  const nat = native();
  const out = alloc("f32", [...xi.shape.slice(0, -1), OC]);
  nat.qlinearForward(out.f32(), xi.f32(), weight.q, weight.scale, N, C, OC, weight.bits);
  if (bi) nat.rowwiseForward(out.f32(), out.f32(), bi.f32(), N, OC, 0);
  return record(op, [xi, bi], out, (g) => {
    if (xi.requiresGrad) nat.qlinearBackward(gradOf(xi).f32(), g.f32(), weight.q, weight.scale, N, C, OC, weight.bits);
    if (bi && bi.requiresGrad) nat.rowwiseBackward(null, gradOf(bi).f32(), g.f32(), g.f32(), bi.f32(), N, OC, 0);
  });
}
