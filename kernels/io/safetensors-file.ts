// safetensors files read and written tensor by tensor, for checkpoints too large to hold twice
// in memory (a Hugging Face model directory): open() parses only the header; readInto() copies
// one tensor's bytes from the file straight into a destination array (F32), or widens F16/BF16
// into it. writeSafetensorsFile() streams tensors produced one at a time. The whole-buffer
// reader (safetensors.ts) stays the simple path for small files.
// Legend: n elements of a tensor.
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { FormatError } from "../errors.js";
import { native } from "../native/load.js";
import { formatShape, numel } from "../tensor/shape.js";

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, I8: 1, U8: 1, BOOL: 1, I16: 2, U16: 2 };
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  readonly name: string;
  /** The file's dtype string: "F32", "F16", "BF16", ... */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsFile {
  readonly path: string;
  /** Bytes on disk. */
  readonly size: number;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Reads a F32/F16/BF16 tensor into `out` (n floats), widening half types. */
  readInto(name: string, out: Float32Array): void;
  close(): void;
}

/** Opens a safetensors file and parses its header (the tensors stay on disk). */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new FormatError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const fail = (msg: string): never => {
      throw new FormatError(`${path}: not a valid safetensors file: ${msg}`);
    };
    if (size < 8) fail(`${size} bytes is too short for the 8-byte header size`);
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const headerLen = Number(head.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER || 8 + headerLen > size) fail(`header size ${headerLen} does not fit the ${size}-byte file`);
    const hb = Buffer.alloc(headerLen);
    readSync(fd, hb, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hb.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new FormatError(`${path}: not a valid safetensors file: the header is not JSON`, { cause: err });
    }
    if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not an object");
    const entries = new Map<string, SafetensorsEntry>();
    const metadata: Record<string, string> = {};
    const dataStart = 8 + headerLen;
    for (const [name, raw] of Object.entries(header)) {
      if (name === "__metadata__") {
        for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) if (typeof v === "string") metadata[k] = v;
        continue;
      }
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const width = typeof e?.dtype === "string" ? BYTES[e.dtype] : undefined;
      if (width === undefined) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape`);
      const [b, en] = Array.isArray(e.data_offsets) ? (e.data_offsets as number[]) : [NaN, NaN];
      const shape = e.shape as number[];
      if (!Number.isInteger(b) || !Number.isInteger(en) || b! < 0 || en! - b! !== numel(shape) * width!) {
        fail(`tensor "${name}" (${e.dtype} ${formatShape(shape)}) has data_offsets [${b}, ${en}] that do not match its size`);
      }
      entries.set(name, { name, dtype: e.dtype as string, shape, begin: dataStart + b!, end: dataStart + en! });
    }
    let open = true;
    return {
      path, size, entries, metadata,
      readInto(name: string, out: Float32Array): void {
        if (!open) throw new FormatError(`${path} is closed`);
        const e = entries.get(name);
        if (!e) throw new FormatError(`${path}: no tensor "${name}"`);
        const n = numel(e.shape);
        if (out.length !== n) throw new FormatError(`${path}: tensor "${name}" has ${n} elements, the destination ${out.length}`);
        if (e.end > size) throw new FormatError(`${path}: tensor "${name}" needs bytes [${e.begin}, ${e.end}) but the file has ${size} bytes (truncated)`);
        if (e.dtype === "F32") {
          readFully(fd, new Uint8Array(out.buffer, out.byteOffset, n * 4), e.begin);
          return;
        }
        if (e.dtype === "F16" || e.dtype === "BF16") {
          const half = new Uint16Array(n);
          readFully(fd, new Uint8Array(half.buffer), e.begin);
          if (e.dtype === "F16") native().f16ToF32(out, half, n);
          else native().bf16ToF32(out, half, n);
          return;
        }
        throw new FormatError(`${path}: tensor "${name}" is ${e.dtype}; only F32, F16 and BF16 tensors are read as weights`);
      },
      close(): void {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function readFully(fd: number, dst: Uint8Array, at: number): void {
  let done = 0;
  while (done < dst.byteLength) {
    const n = readSync(fd, dst, done, dst.byteLength - done, at + done);
    if (n === 0) throw new FormatError(`unexpected end of file at byte ${at + done}`);
    done += n;
  }
}

export interface StreamedTensor {
  readonly name: string;
  readonly dtype: "F32" | "F16" | "BF16" | "I32";
  readonly shape: readonly number[];
  /** The little-endian bytes, produced when the writer reaches this tensor. */
  bytes(): Uint8Array;
}

/**
 * Writes tensors one at a time (each `bytes()` is called once, in order) with `metadata`, to a
 * temporary file renamed into place at the end. Returns the file's size.
 */
export function writeSafetensorsFile(path: string, tensors: readonly StreamedTensor[], metadata: Record<string, string> = {}): number {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const bytes = numel(t.shape) * BYTES[t.dtype]!;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const hb = Buffer.from(json, "utf8");
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  let ok = false;
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.byteLength));
    writeSync(fd, len);
    writeSync(fd, hb);
    for (const t of tensors) {
      const b = t.bytes();
      const want = numel(t.shape) * BYTES[t.dtype]!;
      if (b.byteLength !== want) throw new FormatError(`${path}: tensor "${t.name}" produced ${b.byteLength} bytes, its header says ${want}`);
      let done = 0;
      while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
    }
    ok = true;
  } finally {
    closeSync(fd);
    if (!ok) rmSync(tmp, { force: true });
  }
  renameSync(tmp, path);
  return 8 + hb.byteLength + offset;
}
