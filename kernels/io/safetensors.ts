// safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header size,
// a JSON header { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": {..} }
// padded with spaces to 8 bytes, then the raw little-endian bytes. Files written here load in
// the Hugging Face library; files from it load here (F32, F16, BF16, I32; I64 and F64 are
// converted to I32 and F32 on read).
import { readFileSync, writeFileSync } from "node:fs";
import { FormatError } from "../errors.js";
import type { DType } from "../tensor/dtype.js";
import { formatShape, numel } from "../tensor/shape.js";
import { type Tensor, TensorImpl } from "../tensor/tensor.js";

const toFile: Record<DType, string> = { f32: "F32", f16: "F16", bf16: "BF16", i32: "I32" };
const fromFile: Record<string, { dtype: DType; bytes: number }> = {
  F32: { dtype: "f32", bytes: 4 },
  F16: { dtype: "f16", bytes: 2 },
  BF16: { dtype: "bf16", bytes: 2 },
  I32: { dtype: "i32", bytes: 4 },
  I64: { dtype: "i32", bytes: 8 },
  F64: { dtype: "f32", bytes: 8 },
};
const MAX_HEADER = 100 * 1024 * 1024;

export interface Safetensors {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parses safetensors bytes; tensors are copies (aligned, independent of the input buffer). */
export function parseSafetensors(bytes: Uint8Array, source = "<buffer>"): Safetensors {
  const fail = (msg: string): never => {
    throw new FormatError(`${source}: not a valid safetensors file: ${msg}`);
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes is too short for the 8-byte header size`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.byteLength) fail(`header size ${headerLen} does not fit the ${bytes.byteLength}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (err) {
    throw new FormatError(`${source}: not a valid safetensors file: the header is not JSON`, { cause: err });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not an object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as Entry;
    const kind = fromFile[e?.dtype];
    if (!kind) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(e?.dtype)} (supported: ${Object.keys(fromFile).join(", ")})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape`);
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    const n = numel(e.shape);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLen || end - begin !== n * kind!.bytes) {
      fail(`tensor "${name}" (${e.dtype} ${formatShape(e.shape)}) has data_offsets [${begin}, ${end}] that do not match its size or the ${dataLen}-byte data section`);
    }
    tensors.set(name, decode(bytes.subarray(dataStart + begin, dataStart + end), e.dtype, kind!.dtype, e.shape, n));
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, fileDtype: string, dtype: DType, shape: number[], n: number): Tensor {
  const copy = new Uint8Array(raw); // aligned private copy
  const dv = new DataView(copy.buffer);
  if (fileDtype === "I64") {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = dv.getBigInt64(8 * i, true);
      if (v > 2147483647n || v < -2147483648n) throw new FormatError(`I64 value ${v} does not fit i32`);
      out[i] = Number(v);
    }
    return new TensorImpl("i32", shape, out);
  }
  if (fileDtype === "F64") {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
    return new TensorImpl("f32", shape, out);
  }
  const data = dtype === "f32" ? new Float32Array(copy.buffer, 0, n) : dtype === "i32" ? new Int32Array(copy.buffer, 0, n) : new Uint16Array(copy.buffer, 0, n);
  return new TensorImpl(dtype, shape, data);
}

export function readSafetensors(path: string): Safetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new FormatError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseSafetensors(bytes, path);
}

/** Serialises tensors (in the order given) and string metadata. */
export function serializeSafetensors(tensors: ReadonlyMap<string, Tensor> | Iterable<readonly [string, Tensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : tensors)] as [string, Tensor][];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new FormatError(`"__metadata__" cannot be a tensor name`);
    if (!t.isContiguous) throw new FormatError(`tensor "${name}" is a strided view; write contiguous(t)`);
    const bytes = t.size * (t.dtype === "f16" || t.dtype === "bf16" ? 2 : 4);
    header[name] = { dtype: toFile[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += " ".repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const [, t] of entries) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.BYTES_PER_ELEMENT * t.size);
    out.set(src, at);
    at += src.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: ReadonlyMap<string, Tensor> | Iterable<readonly [string, Tensor]>, metadata: Record<string, string> = {}): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}
