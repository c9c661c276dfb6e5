// The hidden-state codecs. Each turns a residual-stream state [B, T, C] taken at a layer into
// a packet (packet.ts) and back:
//   raw-f32  the f32 values, bit-exact                          4C bytes a token
//   f16      IEEE half, round to nearest even                    2C
//   bf16     bfloat16, round to nearest even                     2C
//   int8     blockwise absmax (q8_0 layout, blocks of 32)        34·⌈C/32⌉
//   int4     blockwise (q4_0 layout, blocks of 32)               18·⌈C/32⌉
//   learned  the stage-5 transfer adapter's latent (heads/transfer.ts): per token the rms (f16),
//            then the latent as int8 with an f16 absmax scale, or as f16    d + 4 or 2d + 2
// Encoding refuses a non-finite state; decoding refuses a packet of another codec, a
// non-finite value or scale, and a learned packet made by another adapter (its id is the
// first 8 bytes of the SHA-256 of the adapter's spec and weights).
// Legend: B batch, T time, C channels, N = B·T tokens, d latent.
import { createHash } from "node:crypto";
import { fromArray, noGrad, toBF16, toF16, toF32 } from "../../kernels/mod.js";
import { ModelConfigError, PacketError } from "../errors.js";
import { weightsDigest } from "../gpt.js";
import { type TransferAdapter, learnedBytesPerToken } from "../heads/transfer.js";
import { type CodecName, CODECS, type PacketHeader, readPacket, writePacket } from "./packet.js";
import { INT4_BLOCK_BYTES, INT8_BLOCK_BYTES, QBLOCK, blocksPerRow, dequantizeInt4, dequantizeInt8, fromHalfBits, quantizeInt4, quantizeInt8, toHalfBits } from "./quant.js";

/** Where a state comes from: its shape and residual-stream index. */
export interface StateShape {
  readonly B: number;
  readonly T: number;
  readonly C: number;
  readonly layer: number;
}

export interface HiddenCodec {
  readonly name: CodecName;
  /** payload bytes per token of a C-channel state */
  bytesPerToken(C: number): number;
  /** state [B·T·C] → a packet; `context` [B·T, X] feeds the learned encoder */
  encode(state: Float32Array, shape: StateShape, context?: Float32Array | null): Uint8Array;
}

export const CODEC_ALIASES: Readonly<Record<string, CodecName>> = { f32: "raw-f32", q8_0: "int8", q4_0: "int4" };

/** A codec name from a scenario (`q8_0` and `q4_0` are the wire names of int8 and int4). */
export function resolveCodecName(name: string): CodecName {
  const n = CODEC_ALIASES[name] ?? name;
  if (!(CODECS as string[]).includes(n)) throw new ModelConfigError("codec", `unknown codec ${JSON.stringify(name)}; known: ${CODECS.join(", ")} (aliases ${Object.keys(CODEC_ALIASES).join(", ")})`);
  return n as CodecName;
}

function checkFinite(state: Float32Array): void {
  for (let i = 0; i < state.length; i++) {
    if (!Number.isFinite(state[i]!)) throw new PacketError("nonfinite", `the state to encode has ${state[i]} at value ${i}`);
  }
}

function checkShape(state: Float32Array, s: StateShape): void {
  for (const k of ["B", "T", "C", "layer"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < (k === "layer" ? 0 : 1)) throw new ModelConfigError(`codec.shape.${k}`, `expected an integer >= ${k === "layer" ? 0 : 1}, got ${s[k]}`);
  }
  if (state.length !== s.B * s.T * s.C) throw new ModelConfigError("codec.state", `${state.length} values do not fill [${s.B}, ${s.T}, ${s.C}]`);
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The stable id of an adapter: 16 hex digits of SHA-256 over its spec and weights (take it after training). */
export function adapterId(adapter: TransferAdapter): string {
  return createHash("sha256").update(JSON.stringify(adapter.spec)).update(weightsDigest(adapter)).digest("hex").slice(0, 16);
}

function plain(name: "raw-f32" | "f16" | "bf16" | "int8" | "int4"): HiddenCodec {
  return {
    name,
    bytesPerToken: (C) => (name === "raw-f32" ? 4 * C : name === "int8" ? INT8_BLOCK_BYTES * blocksPerRow(C) : name === "int4" ? INT4_BLOCK_BYTES * blocksPerRow(C) : 2 * C),
    encode(state, s) {
      checkShape(state, s);
      checkFinite(state);
      const N = s.B * s.T;
      let payload: Uint8Array;
      if (name === "raw-f32") payload = bytesOf(state).slice();
      else if (name === "f16" || name === "bf16") {
        const t = noGrad(() => (name === "f16" ? toF16 : toBF16)(fromArray(state, [state.length])));
        payload = bytesOf(t.data).slice();
      } else payload = name === "int8" ? quantizeInt8(state, N, s.C) : quantizeInt4(state, N, s.C);
      return writePacket({ codec: name, layer: s.layer, B: s.B, T: s.T, C: s.C, param: name === "int8" || name === "int4" ? QBLOCK : 0, adapterId: null }, payload);
    },
  };
}

/** The learned codec of one trained adapter (its layer is the adapter's split layer). */
export function learnedCodec(adapter: TransferAdapter): HiddenCodec & { readonly id: string } {
  const id = adapterId(adapter);
  const { latent: d, bits, channels } = adapter.spec;
  const per = learnedBytesPerToken(adapter.spec);
  return {
    name: "learned",
    id,
    bytesPerToken: () => per,
    encode(state, s, context = null) {
      checkShape(state, s);
      checkFinite(state);
      if (s.C !== channels) throw new ModelConfigError("codec.learned", `the adapter encodes ${channels} channels, the state has ${s.C}`);
      if (s.layer !== adapter.spec.layer) throw new ModelConfigError("codec.learned", `the adapter was trained at index ${adapter.spec.layer}, the state is from index ${s.layer}`);
      const N = s.B * s.T;
      const X = adapter.spec.context;
      if (X > 0 && (!context || context.length !== N * X)) throw new ModelConfigError("codec.learned.context", `the adapter reads a context of ${X} per token (${N * X} values), got ${context?.length ?? "none"}`);
      const { z, rms } = noGrad(() => adapter.encode(fromArray(state, [N, channels]), X > 0 ? fromArray(context!, [N, X]) : null));
      const zd = z.f32();
      const payload = new Uint8Array(N * per);
      const v = new DataView(payload.buffer);
      for (let r = 0; r < N; r++) {
        const o = r * per;
        v.setUint16(o, toHalfBits(rms[r]!), true);
        if (bits === 8) {
          let m = 0;
          for (let k = 0; k < d; k++) m = Math.max(m, Math.abs(zd[r * d + k]!));
          const scale = m / 127;
          const inv = scale ? 1 / scale : 0;
          v.setUint16(o + 2, toHalfBits(scale), true);
          for (let k = 0; k < d; k++) {
            const q = zd[r * d + k]! * inv;
            v.setInt8(o + 4 + k, Math.sign(q) * Math.round(Math.abs(q)));
          }
        } else {
          for (let k = 0; k < d; k++) v.setUint16(o + 2 + 2 * k, toHalfBits(zd[r * d + k]!), true);
        }
      }
      return writePacket({ codec: "learned", layer: s.layer, B: s.B, T: s.T, C: s.C, param: d | (bits << 24), adapterId: id }, payload);
    },
  };
}

/** A codec by name; `learned` needs its adapter. */
export function createCodec(name: string, o: { adapter?: TransferAdapter } = {}): HiddenCodec {
  const n = resolveCodecName(name);
  if (n !== "learned") return plain(n);
  if (!o.adapter) throw new ModelConfigError("codec.learned", "the learned codec needs a trained transfer adapter (stage 5)");
  return learnedCodec(o.adapter);
}

function expectBytes(h: PacketHeader, payload: Uint8Array, want: number): void {
  if (payload.byteLength !== want) throw new PacketError("length", `a ${h.codec} packet of [${h.B}, ${h.T}, ${h.C}] needs ${want} payload bytes, it has ${payload.byteLength}`);
}

function halvesFinite(bits: Uint16Array, bf16: boolean): void {
  const mask = bf16 ? 0x7f80 : 0x7c00;
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & mask) === mask) throw new PacketError("nonfinite", `value ${i} is ${bits[i]! & (bf16 ? 0x7f : 0x3ff) ? "NaN" : "infinite"}`);
}

function blockScalesFinite(payload: Uint8Array, blockBytes: number): void {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let o = 0; o < payload.byteLength; o += blockBytes) {
    if (!Number.isFinite(fromHalfBits(v.getUint16(o, true)))) throw new PacketError("nonfinite", `block ${o / blockBytes} has a non-finite scale`);
  }
}

export interface DecodedState {
  readonly header: PacketHeader;
  /** [B·T·C] f32 */
  readonly state: Float32Array;
}

/**
 * Decodes any packet: header, checksum, payload size and values are checked; a learned packet
 * needs the adapter whose id it carries among `adapters`.
 */
export function decodePacket(bytes: Uint8Array, o: { adapters?: readonly TransferAdapter[] } = {}): DecodedState {
  const { header: h, payload } = readPacket(bytes);
  const N = h.B * h.T;
  const n = N * h.C;
  switch (h.codec) {
    case "raw-f32": {
      expectBytes(h, payload, 4 * n);
      const state = new Float32Array(payload.slice().buffer);
      for (let i = 0; i < n; i++) if (!Number.isFinite(state[i]!)) throw new PacketError("nonfinite", `value ${i} is ${state[i]}`);
      return { header: h, state };
    }
    case "f16":
    case "bf16": {
      expectBytes(h, payload, 2 * n);
      const bits = new Uint16Array(payload.slice().buffer);
      halvesFinite(bits, h.codec === "bf16");
      const state = noGrad(() => toF32(fromArray(bits, [n], h.codec === "bf16" ? "bf16" : "f16")).f32());
      return { header: h, state };
    }
    case "int8":
    case "int4": {
      const block = h.codec === "int8" ? INT8_BLOCK_BYTES : INT4_BLOCK_BYTES;
      if (h.param !== QBLOCK) throw new PacketError("codec", `${h.codec} with blocks of ${h.param}; this troupe reads blocks of ${QBLOCK}`);
      expectBytes(h, payload, N * blocksPerRow(h.C) * block);
      blockScalesFinite(payload, block);
      return { header: h, state: h.codec === "int8" ? dequantizeInt8(payload, N, h.C) : dequantizeInt4(payload, N, h.C) };
    }
    case "learned":
      return decodeLearned(h, payload, o.adapters ?? []);
  }
}

function decodeLearned(h: PacketHeader, payload: Uint8Array, adapters: readonly TransferAdapter[]): DecodedState {
  const adapter = adapters.find((a) => adapterId(a) === h.adapterId);
  if (!adapter) throw new PacketError("adapter", `made by adapter ${h.adapterId}, which this decoder does not have (it has ${adapters.map(adapterId).join(", ") || "none"}); both ends need the same stage-5 weights`);
  const d = h.param & 0xffffff;
  const bits = h.param >>> 24;
  if (d !== adapter.spec.latent || bits !== adapter.spec.bits || h.C !== adapter.spec.channels || h.layer !== adapter.spec.layer) {
    throw new PacketError("shape", `latent ${d}×${bits} bits, ${h.C} channels at index ${h.layer} do not match the adapter's ${adapter.spec.latent}×${adapter.spec.bits}, ${adapter.spec.channels} at ${adapter.spec.layer}`);
  }
  const N = h.B * h.T;
  const per = learnedBytesPerToken(adapter.spec);
  expectBytes(h, payload, N * per);
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const z = new Float32Array(N * d);
  const rms = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    const o = r * per;
    rms[r] = fromHalfBits(v.getUint16(o, true));
    if (!Number.isFinite(rms[r]!)) throw new PacketError("nonfinite", `token ${r} has a non-finite rms`);
    if (bits === 8) {
      const scale = fromHalfBits(v.getUint16(o + 2, true));
      if (!Number.isFinite(scale)) throw new PacketError("nonfinite", `token ${r} has a non-finite latent scale`);
      for (let k = 0; k < d; k++) z[r * d + k] = v.getInt8(o + 4 + k) * scale;
    } else {
      for (let k = 0; k < d; k++) {
        const x = fromHalfBits(v.getUint16(o + 2 + 2 * k, true));
        if (!Number.isFinite(x)) throw new PacketError("nonfinite", `token ${r} has a non-finite latent value`);
        z[r * d + k] = x;
      }
    }
  }
  const state = noGrad(() => adapter.decode(fromArray(z, [N, d]), rms).f32().slice());
  return { header: h, state };
}
