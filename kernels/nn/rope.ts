// Rotary position tables as Hugging Face's Llama computes them: inv_freq[i] =
// 1 / theta^(2i/hs) in float32 (optionally rescaled: "linear" or "llama3" rope_scaling), the
// angle p·inv_freq rounded to float32 and its cos/sin, for positions 0..P-1. The ops read them
// as [P, hs/2] tables (rotate_half pairs i with i + hs/2, so both halves share frequency i).
// Tables grow on demand: rotary positions have no hard limit (decoding past max_position_embeddings
// is allowed, as in Hugging Face).
// Legend: P positions, hs head size, h2 = hs/2.
import { ArgumentError } from "../errors.js";
import { fromArray } from "../tensor/create.js";
import { outsideWorkspace } from "../tensor/arena.js";
import type { Tensor } from "../tensor/tensor.js";

/** rope_scaling of a Hugging Face config (the kinds troupe implements). */
export type RopeScaling =
  | { readonly type: "linear"; readonly factor: number }
  | {
      readonly type: "llama3";
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositions: number;
    };

const f = Math.fround;

/** inv_freq [h2] in float32, as transformers' _compute_*_rope_parameters. */
export function rotaryInverseFrequencies(headDim: number, theta: number, scaling: RopeScaling | null = null): Float32Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new ArgumentError({ op: "rope", arg: "headDim" }, `Expected "headDim" to be an even integer >= 2, got ${headDim}`);
  }
  if (!(theta > 0)) throw new ArgumentError({ op: "rope", arg: "theta" }, `Expected "theta" to be a positive number, got ${theta}`);
  const h2 = headDim / 2;
  const inv = new Float32Array(h2);
  for (let i = 0; i < h2; i++) inv[i] = f(1 / f(Math.pow(theta, f(f(2 * i) / headDim))));
  if (scaling?.type === "linear") {
    for (let i = 0; i < h2; i++) inv[i] = f(inv[i]! / scaling.factor);
  } else if (scaling?.type === "llama3") {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = scaling;
    const lowWavelen = old / lo;
    const highWavelen = old / hi;
    for (let i = 0; i < h2; i++) {
      const wavelen = (2 * Math.PI) / inv[i]!;
      if (wavelen > lowWavelen) inv[i] = f(inv[i]! / factor);
      else if (wavelen >= highWavelen) {
        const smooth = (old / wavelen - lo) / (hi - lo);
        inv[i] = f((1 - smooth) * (inv[i]! / factor) + smooth * inv[i]!);
      }
    }
  }
  return inv;
}

/** cos/sin tables [P, h2] for positions 0..P-1, grown on demand. */
export class RotaryTable {
  readonly invFreq: Float32Array;
  private cosT: Tensor;
  private sinT: Tensor;

  constructor(readonly headDim: number, readonly theta: number, readonly scaling: RopeScaling | null, positions: number) {
    this.invFreq = rotaryInverseFrequencies(headDim, theta, scaling);
    [this.cosT, this.sinT] = this.build(Math.max(1, positions));
  }

  get positions(): number {
    return this.cosT.shape[0]!;
  }

  private build(P: number): [Tensor, Tensor] {
    const h2 = this.headDim / 2;
    const c = new Float32Array(P * h2);
    const s = new Float32Array(P * h2);
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < h2; i++) {
        const angle = f(p * this.invFreq[i]!);
        c[p * h2 + i] = Math.cos(angle);
        s[p * h2 + i] = Math.sin(angle);
      }
    }
    return outsideWorkspace(() => [fromArray(c, [P, h2]), fromArray(s, [P, h2])]);
  }

  /** The tables, covering at least positions 0..P-1. */
  tables(P: number): { cos: Tensor; sin: Tensor } {
    if (P > this.positions) [this.cosT, this.sinT] = this.build(Math.max(P, 2 * this.positions));
    return { cos: this.cosT, sin: this.sinT };
  }
}
