// The receiving side's measurement, shared by every path a packet takes: the transfer decoder
// (a packet over NATS, or over a link from an encoder on another host) and the encoder's own
// same-host reference. A packet is checked by the counting receiver (models/transfer
// receivePacket: length, magic, version, codec, shape, announced length, CRC-32, the payload's
// values, the learned codec's adapter); a decoded state resumes the frozen stage model's forward
// pass from its split layer, and the no-transfer forward pass of the same prompts gives
// KL(no transfer ‖ resumed) of every counted position and the top-1 agreement.
// Legend: B batch, T time, C channels, V vocab, n counted positions.
import { clone, fromArray, klDivergence, noGrad } from "../../kernels/mod.js";
import { type PacketCounters, type TransferAdapter, argmaxRows, dimsOf, headsOf, receivePacket } from "../../models/mod.js";
import { type WireTensor, typedView } from "../../protocol/mod.js";
import type { LoadedWeights } from "../cast/mod.js";

export interface Resumed {
  /** KL(no transfer ‖ resumed) of every counted position, in order */
  readonly kl: Float32Array;
  readonly agree: number;
  readonly counted: number;
  readonly payloadBytes: number;
  readonly decodeMs: number;
}

/** Checks and decodes `packet`, resumes from it and compares with the no-transfer pass; throws the receiver's typed error for a refused packet. */
export function resumeAndCompare(w: Pick<LoadedWeights, "model" | "heads">, packet: Uint8Array, idxT: WireTensor, maskT: WireTensor, counters: PacketCounters): Resumed {
  const model = w.model;
  const t0 = performance.now();
  const got = receivePacket(packet, counters, { adapters: headsOf<TransferAdapter>(w.heads, "transfer") });
  if (!got.ok) throw got.error;
  const { header, state } = got.value;
  const [B, T] = idxT.shape as [number, number];
  if (header.B !== B || header.T !== T) throw new Error(`the packet carries [${header.B}, ${header.T}] tokens, the prompts are [${B}, ${T}]`);
  const V = dimsOf(model).vocab;
  const mask = typedView(maskT as WireTensor & { dtype: "f32" });
  return noGrad(() => {
    const resumed = model.resumeFrom(fromArray(state, [B, T, header.C]), header.layer);
    const decodeMs = performance.now() - t0;
    const idx = fromArray(Int32Array.from(typedView(idxT as WireTensor & { dtype: "i32" })), [B, T]);
    const full = clone(model.forwardWithHidden(idx).logits);
    const kl = klDivergence(resumed, full, { reduction: "none" }).f32();
    const a = argmaxRows(resumed.f32(), B * T, V);
    const b = argmaxRows(full.f32(), B * T, V);
    const kept: number[] = [];
    let agree = 0;
    for (let i = 0; i < B * T; i++) {
      if (!mask[i]) continue;
      kept.push(kl[i]!);
      if (a[i] === b[i]) agree++;
    }
    return { kl: Float32Array.from(kept), agree, counted: kept.length, payloadBytes: header.payloadBytes, decodeMs };
  });
}
