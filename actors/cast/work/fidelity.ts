// Stage 5's measurement through the transfer actors: every codec at every split layer on every
// batch of the held-out prompts — the encoder runs the stage model to the split and sends the
// packet, the decoder resumes from it and compares with the no-transfer pass — gathered into the
// models layer's fidelity rows (per codec and split: bytes per token, mean and max KL, top-1,
// and every counted position's KL, batch by batch in order, as the constant-state baseline
// counts them). On hosts, with the decoder on another host than the encoder, every packet is
// also decoded on the encoder's host, and the two paths are compared row by row (CrossHostRow).
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
  /** the same packets over a link to a decoder on another host (on hosts), else null */
  cross: { kl: number[]; agree: number; payload: number; received: number; hosts: Set<string>; decoders: Set<string>; roundTripMs: number } | null;
  encoderHosts: Set<string>;
}

/** One codec at one split, the same packets decoded on the encoder's host and on another host. */
export interface CrossHostRow {
  readonly codec: CodecName;
  readonly layer: number;
  readonly encoder_host: string;
  readonly decoder_host: string;
  /** bytes per token that crossed the link (packet, header included) */
  readonly bytes_per_token: number;
  readonly kl_mean: number;
  readonly top1: number;
  readonly tokens: number;
  /** the same-host path's figures for the same packets */
  readonly same_host_kl_mean: number;
  readonly same_host_top1: number;
  /** every counted position's KL bit-for-bit equal, and the same top-1 count */
  readonly identical: boolean;
  readonly kl_max_abs_diff: number;
  readonly top1_diff: number;
  readonly round_trip_ms: number;
}

/**
 * Compares the cross-host path with the same-host one on the same packets: identical when both
 * counted the same positions, every KL is the same float32 bits and top-1 agreed as often.
 * Pure, so a test shows a perturbed value failing it.
 */
export function comparePaths(same: { kl: Float32Array; agree: number }, cross: { kl: Float32Array; agree: number }): { identical: boolean; kl_max_abs_diff: number; top1_diff: number } {
  let diff = same.kl.length === cross.kl.length ? 0 : Number.POSITIVE_INFINITY;
  let bits = same.kl.length === cross.kl.length;
  const a = new Uint32Array(same.kl.buffer, same.kl.byteOffset, same.kl.length);
  const b = new Uint32Array(cross.kl.buffer, cross.kl.byteOffset, cross.kl.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) bits = false;
    const d = Math.abs(same.kl[i]! - cross.kl[i]!);
    diff = Math.max(diff, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
  }
  return { identical: bits && same.agree === cross.agree, kl_max_abs_diff: diff, top1_diff: cross.agree - same.agree };
}

/** Stage 5's gate check on hosts: every cross-host row bit-identical to its same-host row. */
export function crossHostCheck(cross: readonly CrossHostRow[]): { name: string; ok: boolean; detail: string } {
  const differ = cross.filter((r) => !r.identical);
  return {
    name: "cross-host fidelity equals same-host (every codec and split, bit for bit)",
    ok: cross.length > 0 && differ.length === 0,
    detail: cross.length === 0 ? "nothing was measured across hosts"
      : differ.length === 0 ? `${cross.length} codec/split rows identical (${cross[0]!.encoder_host} → ${cross[0]!.decoder_host} over a link)`
        : differ.map((r) => `${r.codec}@${r.layer}: KL differs by up to ${r.kl_max_abs_diff}, top-1 by ${r.top1_diff}`).join("; "),
  };
}

export async function measureThroughActors(
  deps: WorkDeps,
  o: { weights: Weights; items: readonly LaneItem[]; layers: readonly number[]; codecs: readonly CodecName[]; batch: number },
  signal: AbortSignal,
): Promise<{ rows: FidelityRow[]; crossHost: CrossHostRow[] | null; decoders: string[]; calls: number; wallMs: number }> {
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
      const a: Acc = { bytes: 0, payload: 0, sent: 0, kl: [], agree: 0, decoders: new Set(), cross: null, encoderHosts: new Set() };
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
        if (r.host) a.encoderHosts.add(r.host);
        if (r.crossHost) {
          const c = (a.cross ??= { kl: [], agree: 0, payload: 0, received: 0, hosts: new Set(), decoders: new Set(), roundTripMs: 0 });
          c.kl.push(...typedView(r.crossHost.kl as WireTensor & { dtype: "f32" }));
          c.agree += r.crossHost.agree;
          c.payload += r.crossHost.payloadBytes;
          c.received += r.crossHost.receivedBytes;
          c.hosts.add(r.crossHost.host);
          c.decoders.add(r.crossHost.decoder);
          c.roundTripMs += r.crossHost.roundTripMs;
        } else if (a.cross) throw new Error(`stage 5: the encoder measured ${codec} at ${layer} partly across hosts and partly not (did the decoder move?)`);
      }
      acc.set(`${codec}@${layer}`, a);
    }
  }
  const rows: FidelityRow[] = [];
  const cross: CrossHostRow[] = [];
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
      if (a.cross) {
        a.cross.decoders.forEach((d) => decoders.add(d));
        const ck = Float32Array.from(a.cross.kl);
        const m = ck.length;
        cross.push({
          codec,
          layer,
          encoder_host: [...a.encoderHosts].join(", "),
          decoder_host: [...a.cross.hosts].join(", "),
          bytes_per_token: a.cross.received / a.sent,
          kl_mean: m ? ck.reduce((s, x) => s + x, 0) / m : Number.NaN,
          top1: m ? a.cross.agree / m : Number.NaN,
          tokens: m,
          same_host_kl_mean: rows[rows.length - 1]!.kl_mean,
          same_host_top1: rows[rows.length - 1]!.top1,
          ...comparePaths({ kl, agree: a.agree }, { kl: ck, agree: a.cross.agree }),
          round_trip_ms: Math.round(a.cross.roundTripMs),
        });
      }
    }
  }
  const measuredCross = cross.length > 0;
  if (measuredCross && cross.length !== rows.length) throw new Error(`stage 5: ${rows.length - cross.length} of ${rows.length} codec/split rows were not measured across hosts`);
  return { rows, crossHost: measuredCross ? cross : null, decoders: [...decoders], calls, wallMs: performance.now() - t0 };
}
