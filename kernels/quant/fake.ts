// Fake quantisation with straight-through estimators, for quantization-aware training: the
// forward rounds to the quantised grid and back to f32 (what the exported model computes), the
// backward passes the gradient straight through (STE). Variants:
//   plain    dy/dx = 1 everywhere
//   clipped  dy/dx = 1 inside the representable range, 0 where the value was clamped
//   soft     a temperature-annealed soft quantiser: the fractional part f goes through
//            φ(f) = (σ((f − ½)/τ) − σ(−½/τ)) / (σ(½/τ) − σ(−½/τ)) (0 ↦ 0, 1 ↦ 1), which is the
//            identity-like ramp for large τ and hard rounding as τ → 0; the gradient is φ'(f)
//            (clipped outside the range). τ ≤ 1e-4 is hard rounding with the clipped STE.
// Grids: symmetric b bits = {−qmax..qmax}·s with qmax = 2^(b−1) − 1 and s = absmax/qmax
// (restricted range, so 2 bits is {−s, 0, s}); asymmetric = {0..2^b − 1} with s = (max − min)/(2^b − 1)
// and zero point z = round(−min/s). Granularity: one scale per tensor, per channel (rows of
// [OC, ...]), or ggml's blocks of 32 along the last axis (bits 8 = Q8_0, 4 = Q4_0, bit for bit).
// A calibrated range (PTQ: min-max or percentile) replaces the tensor's own per-tensor range.
// Legend: n elements, R rows (channels), C row length.
import { gradOf, record } from "../autograd/graph.js";
import { ArgumentError } from "../errors.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";
import { expectF32, oneOf } from "../ops/validate.js";
import { BLOCK_SIZE, roundTripBlocks } from "./blocks.js";

export const SteKind = { plain: "plain", clipped: "clipped", soft: "soft" } as const;
export type SteKind = (typeof SteKind)[keyof typeof SteKind];
export const Granularity = { tensor: "tensor", channel: "channel", block: "block" } as const;
export type Granularity = (typeof Granularity)[keyof typeof Granularity];

export interface FakeQuantOptions {
  /** 2 to 8 (1 bit is signQuant). */
  readonly bits: number;
  readonly granularity?: Granularity;
  /** Symmetric grid around 0 (default true). */
  readonly symmetric?: boolean;
  readonly ste?: SteKind;
  /** τ of the soft quantiser (ste "soft"), annealed by the caller (default 0.1). */
  readonly softness?: number;
  /** A calibrated range for the whole tensor (per-tensor only). */
  readonly range?: { readonly min: number; readonly max: number };
}

interface Grid {
  s: number;
  z: number;
  qmin: number;
  qmax: number;
}

function gridFor(lo: number, hi: number, bits: number, symmetric: boolean): Grid {
  if (symmetric) {
    const qmax = 2 ** (bits - 1) - 1;
    const a = Math.max(Math.abs(lo), Math.abs(hi));
    return { s: a > 0 ? a / qmax : 1, z: 0, qmin: -qmax, qmax };
  }
  const levels = 2 ** bits - 1;
  const l = Math.min(lo, 0), h = Math.max(hi, 0);
  const s = h > l ? (h - l) / levels : 1;
  return { s, z: Math.min(levels, Math.max(0, Math.round(-l / s))), qmin: 0, qmax: levels };
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** Quantises x[lo, hi) on one grid into y and its STE derivative into d. */
function quantizeRange(x: Float32Array, y: Float32Array, d: Float32Array, lo: number, hi: number, g: Grid, ste: SteKind, tau: number): void {
  const hard = ste !== "soft" || tau <= 1e-4;
  const a = sig(-0.5 / tau), b = sig(0.5 / tau), norm = b - a;
  for (let i = lo; i < hi; i++) {
    const u = x[i]! / g.s + g.z;
    let q: number, dq: number;
    if (hard) {
      q = Math.round(u);
      dq = 1;
    } else {
      const fl = Math.floor(u), f = u - fl, e = sig((f - 0.5) / tau);
      q = fl + (e - a) / norm;
      dq = (e * (1 - e)) / tau / norm;
    }
    if (q < g.qmin || q > g.qmax) {
      q = q < g.qmin ? g.qmin : g.qmax;
      if (ste !== "plain") dq = 0;
    } else if (ste === "plain") dq = 1;
    y[i] = (q - g.z) * g.s;
    d[i] = dq;
  }
}

/** Fake-quantised x (same shape), gradient by the chosen STE. */
export function fakeQuant(x: Tensor, options: FakeQuantOptions): Tensor {
  const op = "fakeQuant";
  const xi = expectF32(op, "x", x);
  const bits = options?.bits;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw new ArgumentError({ op, arg: "bits" }, `Expected "bits" to be an integer in [2, 8] (1 bit is signQuant), got ${String(bits)}`);
  const gran = oneOf(op, "granularity", options.granularity ?? "tensor", Object.values(Granularity));
  const ste = oneOf(op, "ste", options.ste ?? "plain", Object.values(SteKind));
  const symmetric = options.symmetric ?? true;
  const tau = options.softness ?? 0.1;
  if (!(tau > 0)) throw new ArgumentError({ op, arg: "softness" }, `Expected "softness" to be positive, got ${tau}`);
  const src = xi.f32(), n = xi.size;
  const out = alloc("f32", xi.shape);
  const y = out.f32();
  const d = new Float32Array(n);
  if (gran === "block") {
    if (bits !== 8 && bits !== 4) throw new ArgumentError({ op, arg: "bits" }, `Expected 8 (Q8_0) or 4 (Q4_0) bits for ggml blocks, got ${bits}`);
    if (n % BLOCK_SIZE !== 0) throw new ArgumentError({ op, arg: "x" }, `Expected a size that is a multiple of ${BLOCK_SIZE} for ggml blocks, got ${n}`);
    y.set(roundTripBlocks(src, bits === 8 ? "q8_0" : "q4_0"));
    d.fill(1);
  } else {
    const rows = gran === "channel" && xi.shape.length >= 2 ? xi.shape[0]! : 1;
    const C = rows === 0 ? 0 : n / rows;
    if (options.range && gran !== "tensor") throw new ArgumentError({ op, arg: "range" }, "a calibrated range applies per tensor only");
    for (let r = 0; r < rows; r++) {
      let lo = Infinity, hi = -Infinity;
      if (options.range) {
        lo = options.range.min;
        hi = options.range.max;
      } else {
        for (let i = r * C; i < (r + 1) * C; i++) {
          const v = src[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      quantizeRange(src, y, d, r * C, (r + 1) * C, gridFor(lo, hi, bits, symmetric), ste, tau);
    }
  }
  return record(op, [xi], out, (g) => {
    const gx = gradOf(xi).f32(), gg = g.f32();
    for (let i = 0; i < n; i++) gx[i]! += gg[i]! * d[i]!;
  });
}

/**
 * BitNet b1.58 weights: γ = mean|W| (per tensor), W̃ = clip(round(W/(γ+ε)), −1, 1), returned
 * dequantised as W̃·γ; plain STE.
 */
export function ternaryQuant(w: Tensor, eps = 1e-5): Tensor {
  const op = "ternaryQuant";
  const wi = expectF32(op, "w", w);
  const src = wi.f32(), n = wi.size;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(src[i]!);
  const gamma = n === 0 ? 0 : s / n;
  const out = alloc("f32", wi.shape);
  const y = out.f32();
  for (let i = 0; i < n; i++) y[i] = Math.max(-1, Math.min(1, Math.round(src[i]! / (gamma + eps)))) * gamma;
  return record(op, [wi], out, (g) => {
    const gx = gradOf(wi).f32(), gg = g.f32();
    for (let i = 0; i < n; i++) gx[i]! += gg[i]!;
  });
}

/** 1-bit weights: sign(W)·mean|W| per output channel (rows of [OC, ...]); clipped STE (|w| ≤ 1). */
export function signQuant(w: Tensor): Tensor {
  const op = "signQuant";
  const wi = expectF32(op, "w", w);
  const src = wi.f32(), n = wi.size;
  const rows = wi.shape.length >= 2 ? wi.shape[0]! : 1;
  const C = rows === 0 ? 0 : n / rows;
  const out = alloc("f32", wi.shape);
  const y = out.f32();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = r * C; i < (r + 1) * C; i++) s += Math.abs(src[i]!);
    const a = C === 0 ? 0 : s / C;
    for (let i = r * C; i < (r + 1) * C; i++) y[i] = src[i]! >= 0 ? a : -a;
  }
  return record(op, [wi], out, (g) => {
    const gx = gradOf(wi).f32(), gg = g.f32();
    for (let i = 0; i < n; i++) if (Math.abs(src[i]!) <= 1) gx[i]! += gg[i]!;
  });
}

/**
 * 8-bit absmax activations per token (BitNet): each row of x [..., C] is scaled by 127/max|row|,
 * rounded and clipped to [−128, 127], and scaled back; plain STE.
 */
export function activationQuant8(x: Tensor): Tensor {
  const op = "activationQuant8";
  const xi = expectF32(op, "x", x);
  const C = xi.shape[xi.shape.length - 1] ?? 1;
  const src = xi.f32(), n = xi.size, rows = C === 0 ? 0 : n / C;
  const out = alloc("f32", xi.shape);
  const y = out.f32();
  for (let r = 0; r < rows; r++) {
    let a = 0;
    for (let i = r * C; i < (r + 1) * C; i++) a = Math.max(a, Math.abs(src[i]!));
    const s = 127 / Math.max(a, 1e-5);
    for (let i = r * C; i < (r + 1) * C; i++) y[i] = Math.max(-128, Math.min(127, Math.round(src[i]! * s))) / s;
  }
  return record(op, [xi], out, (g) => {
    const gx = gradOf(xi).f32(), gg = g.f32();
    for (let i = 0; i < n; i++) gx[i]! += gg[i]!;
  });
}
