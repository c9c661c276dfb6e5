// The receiving end's guard: decode a packet without ever throwing, and count what was
// decoded and what was refused, by reason. A refused packet loses nothing: the caller keeps
// the bytes and the error (which names the failed check) and may dead-letter them.
import { PACKET_REASONS, PacketError, type PacketReason, isPacketError } from "../errors.js";
import type { TransferAdapter } from "../heads/transfer.js";
import { type DecodedState, decodePacket } from "./codecs.js";

export interface PacketCounters {
  received: number;
  decoded: number;
  rejected: number;
  rejectedByReason: Record<PacketReason, number>;
}

export function createPacketCounters(): PacketCounters {
  return { received: 0, decoded: 0, rejected: 0, rejectedByReason: Object.fromEntries(PACKET_REASONS.map((r) => [r, 0])) as Record<PacketReason, number> };
}

export type PacketResult = { readonly ok: true; readonly value: DecodedState } | { readonly ok: false; readonly error: PacketError };

/** decodePacket that counts and returns its failure (anything unexpected is "malformed"). */
export function receivePacket(bytes: Uint8Array, counters: PacketCounters, o: { adapters?: readonly TransferAdapter[] } = {}): PacketResult {
  counters.received++;
  try {
    const value = decodePacket(bytes, o);
    counters.decoded++;
    return { ok: true, value };
  } catch (err) {
    const error = isPacketError(err) ? err : new PacketError("malformed", (err as Error)?.message ?? String(err), { cause: err });
    counters.rejected++;
    counters.rejectedByReason[error.reason]++;
    return { ok: false, error };
  }
}
