// Hidden-state transfer: packets (header, version, checksum), codecs (raw-f32, f16, bf16,
// int8, int4, learned), the counting receiver, and the fidelity measure.
export { CODECS, CODEC_IDS, type CodecName, PACKET_HEADER_BYTES, PACKET_MAGIC, PACKET_VERSION, type PacketHeader, readPacket, writePacket } from "./packet.js";
export { CODEC_ALIASES, type DecodedState, type HiddenCodec, type StateShape, adapterId, createCodec, decodePacket, learnedCodec, resolveCodecName } from "./codecs.js";
export { type PacketCounters, type PacketResult, createPacketCounters, receivePacket } from "./reader.js";
export { type FidelityBatch, type FidelityOptions, type FidelityRow, measureFidelity } from "./fidelity.js";
export { QBLOCK, dequantizeInt4, dequantizeInt8, fromHalfBits, quantizeInt4, quantizeInt8, toHalfBits } from "./quant.js";
