// Transfer fidelity: a state sent through a codec and resumed from its layer, against the
// no-transfer run of the same batch. Per codec and split layer: mean and max KL(no-transfer ‖
// resumed) over the counted positions, top-1 agreement, and bytes per token (the whole packet,
// header included, over the B·T tokens it carries). raw-f32 resumes bit for bit: KL 0, top-1 1.
// Legend: B batch, T time, C channels, V vocab.
import { type Tensor, clone, fromArray, klDivergence, noGrad } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import { type HeadSet, headAt } from "../heads/registry.js";
import type { TransferAdapter } from "../heads/transfer.js";
import { type LayeredModel, checkIndices, dimsOf, inEval } from "../layered.js";
import { argmaxRows } from "../oracle/stats.js";
import { type HiddenCodec, createCodec, decodePacket, resolveCodecName } from "./codecs.js";
import type { CodecName } from "./packet.js";

export interface FidelityRow {
  readonly codec: CodecName;
  readonly layer: number;
  readonly bytes_per_token: number;
  readonly payload_bytes_per_token: number;
  readonly kl_mean: number;
  readonly kl_max: number;
  readonly top1: number;
  /** positions counted */
  readonly tokens: number;
  /** with `perToken`: KL of every counted position, batch by batch in order */
  readonly kl_tokens?: Float32Array;
}

export interface FidelityBatch {
  /** [B, T] i32 */
  readonly idx: Tensor;
  /** [B·T]: 1 where the resumed prediction counts (e.g. response positions) */
  readonly mask: Float32Array;
}

export interface FidelityOptions {
  /** residual indices to split at (1..L-1 makes sense; 0 and L are allowed) */
  readonly layers: readonly number[];
  /** codec names (aliases allowed); `learned` uses the transfer adapter of each layer in `heads` */
  readonly codecs: readonly string[];
  readonly heads?: HeadSet;
  /** the learned encoder's context for a layer's state [B, T, C] (route/vitality probabilities) */
  readonly context?: (layer: number, hidden: Tensor) => Float32Array | null;
  /** keep every counted position's KL (kl_tokens) */
  readonly perToken?: boolean;
}

interface Acc {
  codec: CodecName;
  layer: number;
  bytes: number;
  payload: number;
  sent: number;
  kl: number;
  klMax: number;
  agree: number;
  n: number;
  tokens: number[];
}

export function measureFidelity(model: LayeredModel, batches: readonly FidelityBatch[], o: FidelityOptions): FidelityRow[] {
  const layers = checkIndices(model, "fidelity.layers", o.layers);
  if (batches.length === 0) throw new ModelConfigError("fidelity.batches", "no batches to measure on");
  const codecsAt = (layer: number): HiddenCodec[] => o.codecs.map((name) => {
    if (resolveCodecName(name) !== "learned") return createCodec(name);
    const adapter = o.heads ? headAt<TransferAdapter>(o.heads, "transfer", layer) : null;
    if (!adapter) throw new ModelConfigError("fidelity.codecs", `the learned codec at index ${layer} needs a trained transfer adapter there (heads has none)`);
    return createCodec("learned", { adapter });
  });
  const perLayer = new Map(layers.map((l) => [l, codecsAt(l)]));
  const adapters = o.heads ? [...o.heads.values()].filter((h) => h.spec.kind === "transfer") as TransferAdapter[] : [];
  const acc = new Map<string, Acc>();
  const V = dimsOf(model).vocab;
  const C = dimsOf(model).channels;
  inEval(model, () => noGrad(() => {
    for (const b of batches) {
      const [B, T] = [b.idx.shape[0]!, b.idx.shape[1]!];
      if (b.mask.length !== B * T) throw new ModelConfigError("fidelity.mask", `the mask has ${b.mask.length} entries for [${B}, ${T}]`);
      const full = model.forwardWithHidden(b.idx, { capture: layers });
      const fullLogits = clone(full.logits);
      const fullTop = argmaxRows(fullLogits.f32(), B * T, V);
      for (const layer of layers) {
        const hidden = clone(full.hidden[layer]!);
        const ctx = o.context ? o.context(layer, hidden) : null;
        for (const codec of perLayer.get(layer)!) {
          const packet = codec.encode(hidden.f32(), { B, T, C, layer }, ctx);
          const dec = decodePacket(packet, { adapters });
          const resumed = model.resumeFrom(fromArray(dec.state, [B, T, C]), layer);
          const kl = klDivergence(resumed, fullLogits, { reduction: "none" }).f32();
          const top = argmaxRows(resumed.f32(), B * T, V);
          const key = `${codec.name}@${layer}`;
          const a = acc.get(key) ?? { codec: codec.name, layer, bytes: 0, payload: 0, sent: 0, kl: 0, klMax: 0, agree: 0, n: 0, tokens: [] };
          a.bytes += packet.byteLength;
          a.payload += dec.header.payloadBytes;
          a.sent += B * T;
          for (let i = 0; i < B * T; i++) {
            if (!b.mask[i]) continue;
            a.n++;
            a.kl += kl[i]!;
            a.klMax = Math.max(a.klMax, kl[i]!);
            if (o.perToken) a.tokens.push(kl[i]!);
            if (top[i] === fullTop[i]) a.agree++;
          }
          acc.set(key, a);
        }
      }
    }
  }));
  return [...acc.values()].map((a) => ({
    codec: a.codec,
    layer: a.layer,
    bytes_per_token: a.bytes / a.sent,
    payload_bytes_per_token: a.payload / a.sent,
    kl_mean: a.n ? a.kl / a.n : NaN,
    kl_max: a.klMax,
    top1: a.n ? a.agree / a.n : NaN,
    tokens: a.n,
    ...(o.perToken ? { kl_tokens: Float32Array.from(a.tokens) } : {}),
  }));
}
