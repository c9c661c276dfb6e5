// The hidden-state packet: what a transfer encoder sends and a decoder resumes from, on the
// same host now and across hosts later (unchanged). A fixed 48-byte little-endian header, then
// the codec's payload:
//
//   0  "TRHS"    magic                      24  u32 codec parameter (block size, latent width)
//   4  u16       format version (1)         28  u32 payload bytes
//   6  u8        codec id                   32  u32 CRC-32 of the payload
//   7  u8        flags (0)                  36  8 bytes adapter id (learned; else zeros)
//   8  u32       layer (residual index)     44  u32 reserved (0)
//   12 u32 B · 16 u32 T · 20 u32 C          48  payload
//
// Reading checks every field and raises a PacketError whose `reason` names the failed check
// (magic, version, codec, length, shape, checksum, nonfinite, adapter); the codecs check the
// payload's values.
import { crc32 } from "node:zlib";
import { PacketError } from "../errors.js";

export const PACKET_MAGIC = "TRHS";
export const PACKET_VERSION = 1;
export const PACKET_HEADER_BYTES = 48;
/** Largest state a packet may carry (values), so a corrupt header cannot ask for gigabytes. */
export const PACKET_MAX_VALUES = 1 << 28;

export const CODEC_IDS = { "raw-f32": 0, f16: 1, bf16: 2, int8: 3, int4: 4, learned: 5 } as const;
export type CodecName = keyof typeof CODEC_IDS;
export const CODECS = Object.keys(CODEC_IDS) as CodecName[];
const byId = new Map<number, CodecName>(CODECS.map((n) => [CODEC_IDS[n], n]));

export interface PacketHeader {
  readonly version: number;
  readonly codec: CodecName;
  readonly layer: number;
  readonly B: number;
  readonly T: number;
  readonly C: number;
  readonly param: number;
  readonly payloadBytes: number;
  /** 16 hex digits (learned), or null */
  readonly adapterId: string | null;
}

export function writePacket(h: Omit<PacketHeader, "version" | "payloadBytes">, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(PACKET_HEADER_BYTES + payload.byteLength);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(PACKET_MAGIC), 0);
  v.setUint16(4, PACKET_VERSION, true);
  v.setUint8(6, CODEC_IDS[h.codec]);
  v.setUint8(7, 0);
  v.setUint32(8, h.layer, true);
  v.setUint32(12, h.B, true);
  v.setUint32(16, h.T, true);
  v.setUint32(20, h.C, true);
  v.setUint32(24, h.param, true);
  v.setUint32(28, payload.byteLength, true);
  v.setUint32(32, crc32(payload) >>> 0, true);
  if (h.adapterId) out.set(Buffer.from(h.adapterId, "hex").subarray(0, 8), 36);
  out.set(payload, PACKET_HEADER_BYTES);
  return out;
}

/** Header and payload of a packet, every header field and the checksum checked. */
export function readPacket(bytes: Uint8Array): { header: PacketHeader; payload: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) throw new PacketError("length", `expected bytes (Uint8Array), got ${bytes === null ? "null" : typeof bytes}`);
  if (bytes.byteLength < PACKET_HEADER_BYTES) throw new PacketError("length", `${bytes.byteLength} bytes is shorter than the ${PACKET_HEADER_BYTES}-byte header`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== PACKET_MAGIC) throw new PacketError("magic", `magic ${JSON.stringify(magic)}: this is not a troupe hidden-state packet (expected ${JSON.stringify(PACKET_MAGIC)})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint16(4, true);
  if (version !== PACKET_VERSION) throw new PacketError("version", `format version ${version}, this troupe reads version ${PACKET_VERSION}${version > PACKET_VERSION ? "; upgrade troupe on this host" : ""}`);
  const codec = byId.get(v.getUint8(6));
  if (!codec) throw new PacketError("codec", `unknown codec id ${v.getUint8(6)}; known: ${CODECS.map((c) => `${CODEC_IDS[c]} ${c}`).join(", ")}`);
  const [layer, B, T, C, param, payloadBytes] = [8, 12, 16, 20, 24, 28].map((o) => v.getUint32(o, true)) as [number, number, number, number, number, number];
  if (B < 1 || T < 1 || C < 1 || B * T * C > PACKET_MAX_VALUES) throw new PacketError("shape", `shape [${B}, ${T}, ${C}] is empty or larger than ${PACKET_MAX_VALUES} values`);
  if (bytes.byteLength !== PACKET_HEADER_BYTES + payloadBytes) {
    throw new PacketError("length", `the header announces ${payloadBytes} payload bytes, the packet carries ${bytes.byteLength - PACKET_HEADER_BYTES}${bytes.byteLength < PACKET_HEADER_BYTES + payloadBytes ? " (truncated)" : ""}`);
  }
  const payload = bytes.subarray(PACKET_HEADER_BYTES);
  const want = v.getUint32(32, true);
  const got = crc32(payload) >>> 0;
  if (got !== want) throw new PacketError("checksum", `payload CRC-32 ${got.toString(16)} does not match the header's ${want.toString(16)} (corrupted in transit)`);
  const id = Buffer.from(bytes.subarray(36, 44)).toString("hex");
  return { header: { version, codec, layer, B, T, C, param, payloadBytes, adapterId: codec === "learned" ? id : null }, payload };
}
