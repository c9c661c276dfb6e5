// The transfer adapter (stage 5): an encoder that turns the split-layer state (and, when the
// encoder's host has them, the route/vitality probabilities there) into a compact latent, and
// a decoder that turns the latent back into a state the next host resumes from.
//   u = h / rms(h)                          rms(h) per token travels as f16
//   z = enc([u, context])                   d latent channels, sent as int8 (per-token absmax,
//                                           f16 scale) or f16: the bitrate knob is (d, bits)
//   ĥ = rms · (skip(z) + out(gelu(fc(z))))
// Loss (L_transfer) = w_cos (1 − cos(ĥ, h)) + w_mse ‖ĥ − h‖² / ‖h‖² + w_kl KL(no-transfer ‖ resumed)
// (+ an optional bitrate penalty λ_b mean|z|). Training adds uniform noise of one quantization
// step to z, so the decoder learns to live with the wire's rounding.
// Legend: N positions (B·T), C channels, X context, d latent, H decoder units, V vocab.
import {
  type Rng, type Tensor, Linear, Module, abs, add, addScalar, concat, cosineSimilarity, div, fromArray, gelu, klDivergence, mean, mseLoss, mul, neg,
  noGrad, reshape, scale, sum, toF16, toF32,
} from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import type { LayeredModel } from "../layered.js";

export const LATENT_BITS = [8, 16] as const;
export type LatentBits = (typeof LATENT_BITS)[number];

export interface TransferSpec {
  readonly kind: "transfer";
  /** split index: the residual-stream state the encoder reads and the decoder resumes from */
  readonly layer: number;
  readonly channels: number;
  /** context features appended to the state (route + vitality probabilities), 0 for none */
  readonly context: number;
  /** latent channels d */
  readonly latent: number;
  readonly bits: LatentBits;
  /** decoder MLP units */
  readonly hidden: number;
}

/** Wire bytes per token of a learned packet's payload: latent, its scale (int8), the rms. */
export function learnedBytesPerToken(spec: Pick<TransferSpec, "latent" | "bits">): number {
  return spec.bits === 8 ? spec.latent + 2 + 2 : 2 * spec.latent + 2;
}

/** Values rounded to f16 and back (what the wire keeps). */
export function roundF16(x: Float32Array): Float32Array {
  return noGrad(() => toF32(toF16(fromArray(x, [x.length]))).f32().slice());
}

export class TransferAdapter extends Module {
  readonly spec: TransferSpec;
  constructor(spec: TransferSpec, rng: Rng) {
    super();
    for (const k of ["layer", "channels", "context", "latent", "hidden"] as const) {
      const v = spec[k];
      const min = k === "layer" || k === "context" ? 0 : 1;
      if (!Number.isInteger(v) || v < min) throw new ModelConfigError(`heads.transfer.${k}`, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    if (!(LATENT_BITS as readonly number[]).includes(spec.bits)) throw new ModelConfigError("heads.transfer.bits", `expected 8 or 16, got ${JSON.stringify(spec.bits)}`);
    this.spec = { ...spec };
    this.addModule("enc", new Linear(spec.channels + spec.context, spec.latent, rng));
    this.addModule("skip", new Linear(spec.latent, spec.channels, rng));
    this.addModule("fc", new Linear(spec.latent, spec.hidden, rng));
    this.addModule("out", new Linear(spec.hidden, spec.channels, rng, { std: 0.001 }));
  }

  get bytesPerToken(): number {
    return learnedBytesPerToken(this.spec);
  }

  /** Per-token rms of h [N, C], rounded to f16 (as sent). */
  rmsOf(h: Tensor): Float32Array {
    const C = this.spec.channels;
    const d = h.f32();
    const N = h.size / C;
    const out = new Float32Array(N);
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += d[r * C + c]! ** 2;
      out[r] = Math.sqrt(s / C + 1e-6);
    }
    return roundF16(out);
  }

  /**
   * h [N, C] (and context [N, X]) → latent z [N, d] and the rms [N]. With `noise`, z gets
   * uniform noise of one quantization step (training).
   */
  encode(h: Tensor, context: Tensor | null, o: { noise?: Rng } = {}): { z: Tensor; rms: Float32Array } {
    const C = this.spec.channels;
    if (h.shape.length !== 2 || h.shape[1] !== C) throw new ModelConfigError("transfer.encode", `expected a state [N, ${C}], got [${h.shape.join(",")}]`);
    const N = h.shape[0]!;
    if ((context?.shape[1] ?? 0) !== this.spec.context || (context && context.shape[0] !== N)) {
      throw new ModelConfigError("transfer.encode", `expected a context [${N}, ${this.spec.context}], got ${context ? `[${context.shape.join(",")}]` : "none"}`);
    }
    const rms = this.rmsOf(h);
    const u = div(h, fromArray(rms, [N, 1]));
    let z = this.child<Linear>("enc").forward(context ? concat([u, context], -1) : u);
    if (o.noise) {
      const d = this.spec.latent;
      const zd = z.f32();
      const noise = new Float32Array(N * d);
      for (let r = 0; r < N; r++) {
        let m = 0;
        for (let k = 0; k < d; k++) m = Math.max(m, Math.abs(zd[r * d + k]!));
        const step = this.spec.bits === 8 ? m / 127 : m / 2048;
        for (let k = 0; k < d; k++) noise[r * d + k] = (o.noise.next() - 0.5) * step;
      }
      z = add(z, fromArray(noise, [N, d]));
    }
    return { z, rms };
  }

  /** z [N, d] and rms [N] → ĥ [N, C]. */
  decode(z: Tensor, rms: Float32Array): Tensor {
    const N = z.shape[0]!;
    const y = add(this.child<Linear>("skip").forward(z), this.child<Linear>("out").forward(gelu(this.child<Linear>("fc").forward(z))));
    return mul(y, fromArray(rms, [N, 1]));
  }
}

export interface TransferLossWeights {
  readonly cos: number;
  readonly mse: number;
  readonly kl: number;
  /** bitrate penalty λ_b on mean |z| (0: off) */
  readonly bitrate: number;
}

export const DEFAULT_TRANSFER_WEIGHTS: TransferLossWeights = { cos: 1, mse: 1, kl: 1, bitrate: 0 };

export interface TransferLossParts {
  readonly loss: Tensor;
  readonly cos: number;
  readonly mse: number;
  readonly kl: number;
}

/**
 * L_transfer for one batch: h and ĥ are [B·T, C] rows of a [B, T] batch, `teacher` the
 * no-transfer logits [B, T, V], `mask` [B·T] (1 where the resumed logits count).
 */
export function transferLoss(model: LayeredModel, adapter: TransferAdapter, h: Tensor, hHat: Tensor, z: Tensor, teacher: Tensor, mask: Float32Array, w: TransferLossWeights): TransferLossParts {
  const [B, T] = [teacher.shape[0]!, teacher.shape[1]!];
  const C = adapter.spec.channels;
  const count = mask.reduce((a, b) => a + b, 0);
  if (count <= 0) throw new ModelConfigError("transfer.mask", "no position counts in this batch");
  const miss = mean(addScalar(neg(cosineSimilarity(hHat, h)), 1));
  const energy = noGrad(() => mean(mul(h, h)).item());
  const mse = scale(mseLoss(hHat, h), 1 / Math.max(energy, 1e-12));
  const resumed = model.resumeFrom(reshape(hHat, [B, T, C]), adapter.spec.layer);
  const klRows = klDivergence(resumed, teacher, { reduction: "none" });
  const kl = scale(sum(mul(klRows, fromArray(mask, [B, T]))), 1 / count);
  let loss = add(add(scale(miss, w.cos), scale(mse, w.mse)), scale(kl, w.kl));
  if (w.bitrate > 0) loss = add(loss, scale(mean(abs(z)), w.bitrate));
  return { loss, cos: miss.item(), mse: mse.item(), kl: kl.item() };
}
