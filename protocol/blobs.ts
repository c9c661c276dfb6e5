// Large tensors travel by reference. Before encoding, a sender replaces every tensor above a
// threshold (and, if the message would still be too big, the largest remaining ones) by a
// TensorRef whose bytes sit in a BlobStore (the Object Store, see hosts/). After decoding, a
// receiver resolves refs back into tensors, checking size and shape. Handlers never see refs.
import { BlobError } from "./errors.js";
import type { Dtype } from "./dtype.js";
import { type WireTensor, WireTensorImpl, checkTensor, isWireTensor } from "./tensor.js";

export interface TensorRef {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly bytes: number;
  /** blob store (bucket) name */
  readonly store: string;
  /** object name in the store */
  readonly name: string;
  /** content digest recorded at put time ("SHA-256=<base64url>") and verified on get */
  readonly digest: string;
}

export class TensorRefImpl implements TensorRef {
  constructor(
    readonly dtype: Dtype,
    readonly shape: readonly number[],
    readonly bytes: number,
    readonly store: string,
    readonly name: string,
    readonly digest: string,
  ) {}
  toJSON(): object {
    return { ref: `${this.store}/${this.name}`, dtype: this.dtype, shape: this.shape, bytes: this.bytes };
  }
}

export function isTensorRef(value: unknown): value is TensorRef {
  return value instanceof TensorRefImpl;
}

export interface StoredBlob {
  readonly store: string;
  readonly name: string;
  readonly digest: string;
}

/** Where large tensor bytes live. get() must verify the digest and throw on mismatch. */
export interface BlobStore {
  put(data: Uint8Array): Promise<StoredBlob>;
  get(blob: StoredBlob & { bytes: number }): Promise<Uint8Array>;
}

export interface OffloadOptions {
  /** tensors with more bytes than this always go by reference (default 1 MiB) */
  thresholdBytes?: number;
  /** the inline tensors of one message may total at most this many bytes (default 6 MiB) */
  budgetBytes?: number;
}

const MAX_DEPTH = 32;

function collect(value: unknown, out: WireTensor[], depth: number): void {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return;
  if (isWireTensor(value)) {
    out.push(value);
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === "object" && v !== null) collect(v, out, depth + 1);
    return;
  }
  for (const k in value) collect((value as Record<string, unknown>)[k], out, depth + 1);
}

/** Rebuilds containers on the way to replaced values; leaves untouched branches shared. */
function replace(value: unknown, map: Map<unknown, unknown>, depth: number): unknown {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return value;
  const hit = map.get(value);
  if (hit !== undefined) return hit;
  if (isWireTensor(value) || isTensorRef(value) || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const r = replace(value[i], map, depth + 1);
      if (r !== value[i]) (out ??= [...value])[i] = r;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | null = null;
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    const r = replace(v, map, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
}

/** Whether offloadTensors would replace anything (a synchronous check for the fast path). */
export function needsOffload(body: unknown, opts: OffloadOptions = {}): boolean {
  if (typeof body !== "object" || body === null) return false;
  const threshold = opts.thresholdBytes ?? 1024 * 1024;
  const budget = opts.budgetBytes ?? 6 * 1024 * 1024;
  const tensors: WireTensor[] = [];
  collect(body, tensors, 0);
  let inline = 0;
  for (const t of tensors) {
    if (t.data.byteLength > threshold) return true;
    inline += t.data.byteLength;
  }
  return inline > budget;
}

/** Returns `body` itself when nothing needs offloading, else a copy with refs in place. */
export async function offloadTensors(body: unknown, store: BlobStore | undefined, opts: OffloadOptions = {}): Promise<unknown> {
  const threshold = opts.thresholdBytes ?? 1024 * 1024;
  const budget = opts.budgetBytes ?? 6 * 1024 * 1024;
  const tensors: WireTensor[] = [];
  collect(body, tensors, 0);
  if (tensors.length === 0) return body;
  const chosen = new Set<WireTensor>(tensors.filter((t) => t.data.byteLength > threshold));
  let inline = 0;
  for (const t of tensors) if (!chosen.has(t)) inline += t.data.byteLength;
  if (inline > budget) {
    for (const t of [...tensors].sort((a, b) => b.data.byteLength - a.data.byteLength)) {
      if (inline <= budget) break;
      if (chosen.has(t)) continue;
      chosen.add(t);
      inline -= t.data.byteLength;
    }
  }
  if (chosen.size === 0) return body;
  if (!store) {
    throw new BlobError(`message holds ${chosen.size} tensor(s) too large to send inline and no blob store is configured`);
  }
  const map = new Map<unknown, unknown>();
  await Promise.all(
    [...chosen].map(async (t) => {
      const blob = await store.put(t.data);
      map.set(t, new TensorRefImpl(t.dtype, t.shape, t.data.byteLength, blob.store, blob.name, blob.digest));
    }),
  );
  return replace(body, map, 0);
}

function collectRefs(value: unknown, out: TensorRef[], depth: number): void {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return;
  if (isTensorRef(value)) {
    out.push(value);
    return;
  }
  if (isWireTensor(value) || value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === "object" && v !== null) collectRefs(v, out, depth + 1);
    return;
  }
  for (const k in value) collectRefs((value as Record<string, unknown>)[k], out, depth + 1);
}

function anyRef(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || typeof value !== "object" || value === null) return false;
  if (isTensorRef(value)) return true;
  if (isWireTensor(value) || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v === "object" && v !== null && anyRef(v, depth + 1)) return true;
    return false;
  }
  for (const k in value) if (anyRef((value as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

export function hasTensorRefs(value: unknown): boolean {
  return anyRef(value, 0);
}

/** Replaces every TensorRef by the tensor it names. Throws BlobError when one cannot be had. */
export async function resolveTensorRefs(body: unknown, store: BlobStore | undefined): Promise<unknown> {
  const refs: TensorRef[] = [];
  collectRefs(body, refs, 0);
  if (refs.length === 0) return body;
  if (!store) throw new BlobError(`message references ${refs.length} stored tensor(s) but no blob store is configured`);
  const map = new Map<unknown, unknown>();
  await Promise.all(
    refs.map(async (r) => {
      let data: Uint8Array;
      try {
        data = await store.get(r);
      } catch (err) {
        throw new BlobError(`cannot fetch tensor ${r.store}/${r.name}: ${(err as Error).message}`, { cause: err });
      }
      if (data.byteLength !== r.bytes) {
        throw new BlobError(`tensor ${r.store}/${r.name} has ${data.byteLength} bytes, the reference says ${r.bytes}`);
      }
      checkTensor(r.dtype, r.shape, data.byteLength);
      map.set(r, new WireTensorImpl(r.dtype, r.shape, data));
    }),
  );
  return replace(body, map, 0);
}
