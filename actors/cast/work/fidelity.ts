// Stage 5's measurement through the transfer actors: every codec at every split layer on every
// batch of the held-out prompts — the encoder runs the stage model to the split and sends the
// packet, the decoder resumes from it and compares with the no-transfer pass — gathered into the
// models layer's fidelity rows (per codec and split: bytes per token, mean and max KL, top-1,
// and every counted position's KL, batch by batch in order, as the constant-state baseline
// counts them).
// Legend: B batch, T time.
import { END_BYTE, type LaneItem, packRows } from "../../../data/mod.js";
import { CODECS, type CodecName, type FidelityRow, resolveCodecName } from "../../../models/mod.js";
import { type WireTensor, typedView, wireTensor } from "../../../protocol/mod.js";
import { TransferMeasure, type Weights } from "../agp-messages.js";
import { type WorkDeps, callRole } from "./deps.js";

/** The codecs stage 5 measures: the scenario's (all six when it lists none), and always the learned one and int4, its named baseline. */
export function stageCodecs(listed: readonly string[]): CodecName[] {
  const want = listed.length > 0 ? listed.map(resolveCodecName) : [...CODECS];
  for (const c of ["int4", "learned"] as const) if (!want.includes(c)) want.push(c);
  return CODECS.filter((c) => want.includes(c));
}

interface Acc {
  bytes: number;
  payload: number;
  sent: number;
  kl: number[];
  agree: number;
  decoders: Set<string>;
}

export async function measureThroughActors(
  deps: WorkDeps,
  o: { weights: Weights; items: readonly LaneItem[]; layers: readonly number[]; codecs: readonly CodecName[]; batch: number },
  signal: AbortSignal,
): Promise<{ rows: FidelityRow[]; decoders: string[]; calls: number; wallMs: number }> {
  const t0 = performance.now();
  const T = o.items.reduce((m, it) => Math.max(m, it.ids.length), 0) - 1;
  const batches: { idx: WireTensor; mask: WireTensor }[] = [];
  for (let i = 0; i < o.items.length; i += o.batch) {
    const rows = o.items.slice(i, i + o.batch);
    const b = packRows(rows, rows.length, T, END_BYTE);
    batches.push({ idx: wireTensor("i32", [rows.length, T], b.idx), mask: wireTensor("f32", [rows.length * T], Float32Array.from(b.targets, (t) => (t < 0 ? 0 : 1))) });
  }
  const acc = new Map<string, Acc>();
  let calls = 0;
  const heavy = { ...deps, callTimeoutMs: Math.max(deps.callTimeoutMs ?? 0, 120_000) };
  for (const layer of o.layers) {
    for (const codec of o.codecs) {
      const a: Acc = { bytes: 0, payload: 0, sent: 0, kl: [], agree: 0, decoders: new Set() };
      for (const b of batches) {
        signal.throwIfAborted();
        const r = await callRole(heavy, "transfer_encoder", TransferMeasure, { weights: o.weights, layer, codec, idx: b.idx, mask: b.mask }, signal);
        calls++;
        a.bytes += r.bytes;
        a.payload += r.payloadBytes;
        a.sent += r.tokens;
        a.kl.push(...typedView(r.kl as WireTensor & { dtype: "f32" }));
        a.agree += r.agree;
        a.decoders.add(r.decoder);
      }
      acc.set(`${codec}@${layer}`, a);
    }
  }
  const rows: FidelityRow[] = [];
  const decoders = new Set<string>();
  for (const layer of o.layers) {
    for (const codec of o.codecs) {
      const a = acc.get(`${codec}@${layer}`)!;
      a.decoders.forEach((d) => decoders.add(d));
      const n = a.kl.length;
      const kl = Float32Array.from(a.kl);
      rows.push({
        codec,
        layer,
        bytes_per_token: a.bytes / a.sent,
        payload_bytes_per_token: a.payload / a.sent,
        kl_mean: n ? kl.reduce((s, x) => s + x, 0) / n : Number.NaN,
        kl_max: kl.reduce((m, x) => Math.max(m, x), 0),
        top1: n ? a.agree / n : Number.NaN,
        tokens: n,
        kl_tokens: kl,
      });
    }
  }
  return { rows, decoders: [...decoders], calls, wallMs: performance.now() - t0 };
}
