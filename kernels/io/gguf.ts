// GGUF v3 (llama.cpp's model file; ggml docs/gguf.md, gguf-py): the magic "GGUF", version 3,
// tensor and metadata counts, metadata key/values (typed, arrays of one type), tensor infos
// (name, dims in ggml order — the fastest-moving dimension first, i.e. a row-major shape
// reversed — ggml type, offset into the data section), padding to `general.alignment`
// (default 32), then each tensor's bytes at its aligned offset. Little-endian throughout.
// Tensor types written and read: F32, F16, Q8_0, Q4_0 (ggml blocks, see kernels/quant).
// Shapes here are troupe's row-major order; only the file stores them reversed.
import { readFileSync, writeFileSync } from "node:fs";
import { ArgumentError, FormatError } from "../errors.js";
import { BLOCK_BYTES, BLOCK_SIZE, dequantizeBlocks, halfToFloat } from "../quant/blocks.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** GGUF metadata value types (gguf-py GGUFValueType). */
export const GgufValueType = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;
export type GgufScalarType = Exclude<keyof typeof GgufValueType, "array">;

/** ggml tensor types used here (gguf-py GGMLQuantizationType). */
export const GgmlType = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

export type GgufScalar = number | bigint | boolean | string;
export type GgufKV =
  | { readonly type: GgufScalarType; readonly value: GgufScalar }
  | { readonly type: "array"; readonly itemType: GgufScalarType; readonly value: readonly GgufScalar[] };

export interface GgufTensor {
  readonly name: string;
  /** Row-major shape (troupe order); the file stores it reversed. */
  readonly shape: readonly number[];
  readonly type: GgmlTypeName;
  /** The tensor's bytes in its ggml type. */
  readonly data: Uint8Array;
}

export interface GgufFile {
  readonly version: number;
  readonly alignment: number;
  readonly metadata: Map<string, GgufKV>;
  readonly tensors: GgufTensor[];
}

/** Typed metadata values. */
export const kv = {
  u32: (value: number): GgufKV => ({ type: "u32", value }),
  i32: (value: number): GgufKV => ({ type: "i32", value }),
  f32: (value: number): GgufKV => ({ type: "f32", value }),
  bool: (value: boolean): GgufKV => ({ type: "bool", value }),
  string: (value: string): GgufKV => ({ type: "string", value }),
  u64: (value: bigint): GgufKV => ({ type: "u64", value }),
  array: (itemType: GgufScalarType, value: readonly GgufScalar[]): GgufKV => ({ type: "array", itemType, value }),
};

/** Bytes a tensor of this type and row-major shape takes. */
export function ggmlBytes(type: GgmlTypeName, shape: readonly number[]): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (type === "f32") return 4 * n;
  if (type === "f16") return 2 * n;
  const inner = shape[shape.length - 1] ?? 1;
  if (inner % BLOCK_SIZE !== 0) {
    throw new ArgumentError({ op: "gguf", arg: "shape" }, `a ${type} tensor's last dimension must be a multiple of ${BLOCK_SIZE}, got [${shape.join(", ")}]`);
  }
  return (n / BLOCK_SIZE) * BLOCK_BYTES[type];
}

const pad = (n: number, a: number) => Math.ceil(n / a) * a;

class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) { this.grow(1); this.view.setUint8(this.length, v); this.length += 1; }
  i8(v: number) { this.grow(1); this.view.setInt8(this.length, v); this.length += 1; }
  u16(v: number) { this.grow(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  i16(v: number) { this.grow(2); this.view.setInt16(this.length, v, true); this.length += 2; }
  u32(v: number) { this.grow(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.grow(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number) { this.grow(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  f64(v: number) { this.grow(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  u64(v: bigint | number) { this.grow(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  i64(v: bigint | number) { this.grow(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8; }
  bytes(b: Uint8Array) { this.grow(b.length); this.buf.set(b, this.length); this.length += b.length; }
  string(s: string) { const b = new TextEncoder().encode(s); this.u64(b.length); this.bytes(b); }
  zeros(n: number) { this.grow(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  done(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeScalar(w: Writer, type: GgufScalarType, v: GgufScalar, key: string): void {
  const num = (): number => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ArgumentError({ op: "writeGguf", arg: key }, `metadata "${key}" (${type}) needs a finite number, got ${String(v)}`);
    return v;
  };
  switch (type) {
    case "u8": return w.u8(num());
    case "i8": return w.i8(num());
    case "u16": return w.u16(num());
    case "i16": return w.i16(num());
    case "u32": return w.u32(num());
    case "i32": return w.i32(num());
    case "f32": return w.f32(num());
    case "f64": return w.f64(num());
    case "bool": return w.u8(v ? 1 : 0);
    case "string": return w.string(String(v));
    case "u64": return w.u64(typeof v === "bigint" ? v : BigInt(num()));
    case "i64": return w.i64(typeof v === "bigint" ? v : BigInt(num()));
  }
}

/** Serialises a GGUF v3 file: metadata in the given order, tensors at aligned offsets. */
export function serializeGguf(metadata: Map<string, GgufKV> | [string, GgufKV][], tensors: readonly GgufTensor[], alignment = GGUF_DEFAULT_ALIGNMENT): Uint8Array {
  const entries = [...metadata];
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new ArgumentError({ op: "writeGguf", arg: "alignment" }, `Expected a power-of-two alignment, got ${alignment}`);
  }
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new ArgumentError({ op: "writeGguf", arg: "tensors" }, `tensor "${t.name}" appears twice`);
    names.add(t.name);
    const need = ggmlBytes(t.type, t.shape);
    if (t.data.length !== need) throw new ArgumentError({ op: "writeGguf", arg: t.name }, `tensor "${t.name}" (${t.type} [${t.shape.join(", ")}]) needs ${need} bytes, got ${t.data.length}`);
  }
  const hasAlign = entries.some(([k]) => k === "general.alignment");
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !hasAlign) entries.push(["general.alignment", kv.u32(alignment)]);
  const w = new Writer();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(entries.length);
  for (const [key, e] of entries) {
    w.string(key);
    if (e.type === "array") {
      w.u32(GgufValueType.array);
      w.u32(GgufValueType[e.itemType]);
      w.u64(e.value.length);
      for (const v of e.value) writeScalar(w, e.itemType, v, key);
    } else {
      w.u32(GgufValueType[e.type]);
      writeScalar(w, e.type, e.value, key);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (let j = t.shape.length - 1; j >= 0; j--) w.u64(t.shape[j]!);
    w.u32(GgmlType[t.type]);
    w.u64(offset);
    offset += pad(t.data.length, alignment);
  }
  w.zeros(pad(w.length, alignment) - w.length);
  for (const t of tensors) {
    w.bytes(t.data);
    w.zeros(pad(t.data.length, alignment) - t.data.length);
  }
  return w.done();
}

export function writeGguf(path: string, metadata: Map<string, GgufKV> | [string, GgufKV][], tensors: readonly GgufTensor[], alignment?: number): number {
  const bytes = serializeGguf(metadata, tensors, alignment);
  writeFileSync(path, bytes);
  return bytes.length;
}

const typeNames = Object.fromEntries(Object.entries(GgufValueType).map(([k, v]) => [v, k])) as Record<number, keyof typeof GgufValueType>;
const ggmlNames = Object.fromEntries(Object.entries(GgmlType).map(([k, v]) => [v, k])) as Record<number, GgmlTypeName>;

/** Parses a GGUF file (v2 or v3); tensors' data are views of the input bytes. */
export function parseGguf(bytes: Uint8Array, source = "<buffer>"): GgufFile {
  const fail = (msg: string): never => {
    throw new FormatError(`${source}: not a valid GGUF file: ${msg}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const need = (n: number, what: string) => {
    if (p + n > bytes.byteLength) fail(`truncated in ${what} (needs ${n} bytes at offset ${p}, the file has ${bytes.byteLength})`);
  };
  const u32 = (what: string) => { need(4, what); const v = view.getUint32(p, true); p += 4; return v; };
  const u64 = (what: string) => {
    need(8, what);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is too large`);
    return Number(v);
  };
  const str = (what: string) => {
    const n = u64(`${what} length`);
    need(n, what);
    const s = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const scalar = (t: GgufScalarType, key: string): GgufScalar => {
    const sizes: Record<GgufScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 0, u64: 8, i64: 8, f64: 8 };
    if (t === "string") return str(`metadata "${key}"`);
    need(sizes[t], `metadata "${key}"`);
    let v: GgufScalar;
    switch (t) {
      case "u8": v = view.getUint8(p); break;
      case "i8": v = view.getInt8(p); break;
      case "u16": v = view.getUint16(p, true); break;
      case "i16": v = view.getInt16(p, true); break;
      case "u32": v = view.getUint32(p, true); break;
      case "i32": v = view.getInt32(p, true); break;
      case "f32": v = view.getFloat32(p, true); break;
      case "f64": v = view.getFloat64(p, true); break;
      case "bool": v = view.getUint8(p) !== 0; break;
      case "u64": v = view.getBigUint64(p, true); break;
      case "i64": v = view.getBigInt64(p, true); break;
    }
    p += sizes[t];
    return v;
  };
  if (bytes.byteLength < 4 || view.getUint32(0, true) !== GGUF_MAGIC) fail(`the magic is not "GGUF"`);
  p = 4;
  const version = u32("version");
  if (version !== 2 && version !== 3) fail(`format version ${version}; this troupe reads GGUF versions 2 and 3 (re-export the model with a current llama.cpp or troupe)`);
  const nTensors = u64("tensor count");
  const nKv = u64("metadata count");
  const metadata = new Map<string, GgufKV>();
  for (let i = 0; i < nKv; i++) {
    const key = str("metadata key");
    const t = typeNames[u32(`type of "${key}"`)];
    if (t === undefined) fail(`metadata "${key}" has an unknown value type`);
    if (t === "array") {
      const it = typeNames[u32(`item type of "${key}"`)];
      if (it === undefined || it === "array") fail(`metadata "${key}" is an array of an unsupported type`);
      const n = u64(`length of "${key}"`);
      const values: GgufScalar[] = new Array(n);
      for (let j = 0; j < n; j++) values[j] = scalar(it as GgufScalarType, key);
      metadata.set(key, { type: "array", itemType: it as GgufScalarType, value: values });
    } else {
      metadata.set(key, { type: t as GgufScalarType, value: scalar(t as GgufScalarType, key) } as GgufKV);
    }
  }
  const alignKv = metadata.get("general.alignment");
  const alignment = alignKv && alignKv.type !== "array" ? Number(alignKv.value) : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) fail(`general.alignment ${alignment} is not a power of two`);
  const infos: { name: string; shape: number[]; type: GgmlTypeName; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str("tensor name");
    const nd = u32(`rank of "${name}"`);
    if (nd > 8) fail(`tensor "${name}" has rank ${nd}`);
    const dims: number[] = [];
    for (let j = 0; j < nd; j++) dims.push(u64(`dimension of "${name}"`));
    const code = u32(`type of "${name}"`);
    const type = ggmlNames[code];
    if (type === undefined) fail(`tensor "${name}" has ggml type ${code}; this reader supports F32, F16, Q8_0 and Q4_0`);
    infos.push({ name, shape: dims.reverse(), type: type!, offset: u64(`offset of "${name}"`) });
  }
  const dataStart = pad(p, alignment);
  const tensors: GgufTensor[] = [];
  for (const t of infos) {
    let n: number;
    try {
      n = ggmlBytes(t.type, t.shape);
    } catch (err) {
      throw new FormatError(`${source}: not a valid GGUF file: ${(err as Error).message}`, { cause: err });
    }
    if (t.offset % alignment !== 0) fail(`tensor "${t.name}" starts at offset ${t.offset}, not a multiple of the alignment ${alignment}`);
    const at = dataStart + t.offset;
    if (at + n > bytes.byteLength) fail(`tensor "${t.name}" (${t.type} [${t.shape.join(", ")}], ${n} bytes at ${at}) runs past the end of the ${bytes.byteLength}-byte file (truncated?)`);
    tensors.push({ name: t.name, shape: t.shape, type: t.type, data: bytes.subarray(at, at + n) });
  }
  return { version, alignment, metadata, tensors };
}

export function readGguf(path: string): GgufFile {
  return parseGguf(readFileSync(path), path);
}

/** A GGUF tensor's values as f32 (dequantised for Q8_0/Q4_0). */
export function ggufToF32(t: GgufTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.type === "f32") return new Float32Array(new Uint8Array(t.data).buffer, 0, n); // a copy: data may be a view at any offset
  if (t.type === "f16") {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToFloat(t.data[2 * i]! | (t.data[2 * i + 1]! << 8));
    return out;
  }
  return dequantizeBlocks(t.data, t.type, n);
}

/** A metadata value, typed, or a FormatError naming the key. */
export function ggufValue(file: GgufFile, key: string, source = "<gguf>"): GgufScalar | readonly GgufScalar[] {
  const e = file.metadata.get(key);
  if (!e) throw new FormatError(`${source}: GGUF metadata "${key}" is missing`);
  return e.value;
}
