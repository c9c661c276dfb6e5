// The one codec of every plane: msgpackr with two extension types.
//
//   0x54 "T" tensor      ext payload: u8 layout (1) · u8 dtype code · u8 rank · u8 pad p (0-7)
//                        · rank × u32 LE dimensions · p zero bytes · the raw little-endian
//                        bytes · 7−p zero bytes (so the length never depends on alignment)
//   0x4f "O" tensor ref  fixext tag followed by a map {dtype, shape, bytes, store, name, digest}:
//                        a tensor too large for a message, stored in a blob store (Object Store)
//
// Encoding writes the tensor header and bytes straight into msgpackr's output buffer (one copy,
// the same one Buffer.copy would make). Decoding hands out `data` as a view into the received
// bytes: no copy. Every failure to decode becomes a DecodeError subclass (see errors.ts).
import { Packr, RESET_BUFFER_MODE, addExtension } from "msgpackr";
import { type DecodeError, EncodeError, MalformedMessageError, OversizeError, ShapeMismatchError, DtypeError, isDecodeError } from "./errors.js";
import { MAX_RANK, dtypeFromCode, dtypeInfo, isDtype } from "./dtype.js";
import { type Envelope, checkEnvelope } from "./envelope.js";
import { WireTensorImpl, checkTensor } from "./tensor.js";
import { TensorRefImpl } from "./blobs.js";

export const TENSOR_EXT = 0x54;
export const TENSOR_REF_EXT = 0x4f;
const TENSOR_LAYOUT = 1;

/** ext payload length: header, 7 bytes of alignment slack (pad + tail), data */
function tensorExtBody(t: WireTensorImpl): number {
  return 4 + 4 * t.shape.length + 7 + t.data.byteLength;
}

addExtension({
  Class: WireTensorImpl,
  type: TENSOR_EXT,
  // msgpackr calls pack(value, allocateForWrite): we reserve exactly the bytes we need and
  // write the ext framing ourselves, so the tensor bytes are copied once. msgpackr starts
  // every message at an 8-aligned offset of a fresh buffer, so padding the data to an
  // 8-aligned position here makes it 8-aligned relative to the message start too.
  pack(value: WireTensorImpl, allocateForWrite?: (size: number) => { target: Uint8Array; position: number }) {
    const t = value;
    const len = tensorExtBody(t);
    const framing = len < 0x100 ? 3 : len < 0x10000 ? 4 : 6;
    const { target, position } = allocateForWrite!(framing + len);
    let p = position;
    if (framing === 3) {
      target[p++] = 0xc7;
      target[p++] = len;
    } else if (framing === 4) {
      target[p++] = 0xc8;
      target[p++] = len >>> 8;
      target[p++] = len & 0xff;
    } else {
      target[p++] = 0xc9;
      target[p++] = len >>> 24;
      target[p++] = (len >>> 16) & 0xff;
      target[p++] = (len >>> 8) & 0xff;
      target[p++] = len & 0xff;
    }
    target[p++] = TENSOR_EXT;
    const dataAt = p + 4 + 4 * t.shape.length;
    const pad = (8 - ((target.byteOffset + dataAt) & 7)) & 7;
    target[p++] = TENSOR_LAYOUT;
    target[p++] = dtypeInfo(t.dtype).code;
    target[p++] = t.shape.length;
    target[p++] = pad;
    for (const d of t.shape) {
      target[p++] = d & 0xff;
      target[p++] = (d >>> 8) & 0xff;
      target[p++] = (d >>> 16) & 0xff;
      target[p++] = (d >>> 24) & 0xff;
    }
    target.fill(0, p, p + pad);
    p += pad;
    target.set(t.data, p);
    p += t.data.byteLength;
    target.fill(0, p, p + 7 - pad);
    return undefined as unknown as Uint8Array; // already written
  },
  unpack(buf: Uint8Array) {
    if (buf.byteLength < 4) throw new MalformedMessageError(`tensor header truncated (${buf.byteLength} bytes)`);
    if (buf[0] !== TENSOR_LAYOUT) throw new MalformedMessageError(`tensor layout ${buf[0]} is not supported`);
    const info = dtypeFromCode(buf[1]!);
    if (!info) throw new DtypeError(`unknown tensor dtype code ${buf[1]}`);
    const rank = buf[2]!;
    if (rank > MAX_RANK) throw new ShapeMismatchError(`tensor rank ${rank} exceeds the maximum of ${MAX_RANK}`);
    const pad = buf[3]!;
    if (pad > 7) throw new MalformedMessageError(`tensor padding ${pad} exceeds 7`);
    const header = 4 + 4 * rank;
    if (buf.byteLength < header + 7) throw new MalformedMessageError(`tensor header truncated (${buf.byteLength} < ${header + 7} bytes)`);
    const shape = new Array<number>(rank);
    for (let i = 0, p = 4; i < rank; i++, p += 4) {
      shape[i] = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16)) + buf[p + 3]! * 0x1000000;
    }
    const bytes = buf.byteLength - header - 7;
    checkTensor(info.dtype, shape, bytes);
    const data = new Uint8Array(buf.buffer, buf.byteOffset + header + pad, bytes);
    return new WireTensorImpl(info.dtype, Object.freeze(shape), data);
  },
});

addExtension({
  Class: TensorRefImpl,
  type: TENSOR_REF_EXT,
  write(ref: TensorRefImpl) {
    return { dtype: ref.dtype, shape: ref.shape, bytes: ref.bytes, store: ref.store, name: ref.name, digest: ref.digest };
  },
  read(d: unknown) {
    if (typeof d !== "object" || d === null) throw new MalformedMessageError("tensor reference is not a map");
    const { dtype, shape, bytes, store, name, digest } = d as Record<string, unknown>;
    if (!isDtype(dtype)) throw new DtypeError(`tensor reference has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || typeof bytes !== "number") throw new MalformedMessageError("tensor reference lacks shape or size");
    if (typeof store !== "string" || typeof name !== "string" || typeof digest !== "string") {
      throw new MalformedMessageError("tensor reference lacks store, name or digest");
    }
    checkTensor(dtype, shape as number[], bytes);
    return new TensorRefImpl(dtype, Object.freeze([...(shape as number[])]), bytes, store, name, digest);
  },
} as never);

export interface Codec {
  /** largest message decode() accepts; bigger ones are refused before parsing */
  readonly maxBytes: number;
  /** Encodes an envelope; the result is a fresh view that later encodes never overwrite. */
  encode(env: Envelope): Uint8Array;
  /**
   * Encodes into a buffer this codec reuses: the result is valid only until the next encode
   * on this codec. For synchronous consumers (hashing, framing into a socket write you copy,
   * benchmarks); never hand it to nats.js, which holds payloads until it flushes.
   */
  encodeTransient(env: Envelope): Uint8Array;
  /** Decodes and checks an envelope (not its body: see parseBody). Throws DecodeError. */
  decode(bytes: Uint8Array): Envelope;
}

export interface CodecOptions {
  /** default 8 MiB, the embedded server's max_payload */
  maxBytes?: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export function createCodec(opts: CodecOptions = {}): Codec {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  // plain msgpack a Python or Go worker can read: maps, no records, undefined written as nil
  const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: "number", mapsAsObjects: true, encodeUndefinedAsNil: true });
  return {
    maxBytes,
    encode(env) {
      try {
        return packr.pack(env);
      } catch (err) {
        throw new EncodeError(`cannot encode ${env?.kind ?? "message"}: ${(err as Error).message}`, { cause: err });
      }
    },
    encodeTransient(env) {
      try {
        return packr.pack(env, RESET_BUFFER_MODE);
      } catch (err) {
        throw new EncodeError(`cannot encode ${env?.kind ?? "message"}: ${(err as Error).message}`, { cause: err });
      }
    },
    decode(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new MalformedMessageError(`expected bytes, got ${typeof bytes}`);
      if (bytes.byteLength > maxBytes) throw new OversizeError(bytes.byteLength, maxBytes);
      if (bytes.byteLength === 0) throw new MalformedMessageError("empty message");
      let value: unknown;
      try {
        value = packr.unpack(bytes);
      } catch (err) {
        throw asDecodeError(err);
      }
      return checkEnvelope(value);
    },
  };
}

function asDecodeError(err: unknown): DecodeError {
  if (isDecodeError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new MalformedMessageError(`not a valid message: ${msg}`, { cause: err });
}
