// Object Store helpers (checkpoints, data sets, tensors too large for a message) with the
// content digest verified on every read, and a BlobStore for the protocol's tensor refs.
//
// Speed: @nats-io/obj hashes with js-sha256 (pure JS, ~50 MB/s here) and offers no hook to
// change it. installNativeSha256() swaps that module's sha256.create for node:crypto (same
// SHA-256, 4-8× faster), after checking the swap gives identical digests. It is applied once
// per process when the first store is opened; if the module ever changes shape, the pure-JS
// hasher stays and a warning is logged.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj";
import { nanos, nuid, type NatsConnection } from "@nats-io/transport-node";
import { type BlobStore, bucketName } from "../../protocol/mod.js";
import { NotFoundError, ObjectIntegrityError } from "../errors.js";
import { componentLogger } from "../logger.js";
import { reconnectSafe } from "./retry.js";

let nativeHash: boolean | undefined;

interface Sha256Like {
  update(d: Uint8Array | string): Sha256Like;
  digest(): ArrayLike<number>;
}

/**
 * The @nats-io/obj versions whose internals the swap was checked against (it replaces
 * `sha256.create` of the js-sha256 module that @nats-io/obj requires). Another version keeps
 * the pure-JS hasher with a warning until someone re-checks the swap and adds it here
 * (tests/hosts/03.objects.test.ts fails on an upgrade to say so).
 */
export const NATIVE_SHA256_CHECKED = ["3.3.0", "3.3.1"] as const;

/** Whether the swap is known to fit this @nats-io/obj version. */
export function nativeSha256Fits(objVersion: string): boolean {
  return (NATIVE_SHA256_CHECKED as readonly string[]).includes(objVersion);
}

/** The installed @nats-io/obj version (from its package.json), or null. */
export function objClientVersion(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const pkg = req(join(dirname(req.resolve("@nats-io/obj")), "..", "package.json")) as { name?: string; version?: string };
    if (pkg.name === "@nats-io/obj" && pkg.version) return pkg.version;
    const up = req(join(dirname(req.resolve("@nats-io/obj")), "..", "..", "package.json")) as { name?: string; version?: string };
    return up.name === "@nats-io/obj" ? (up.version ?? null) : null;
  } catch {
    return null;
  }
}

/** Makes @nats-io/obj hash with node:crypto. Returns whether the native hasher is in use. */
export function installNativeSha256(): boolean {
  if (nativeHash !== undefined) return nativeHash;
  try {
    const version = objClientVersion();
    if (!version || !nativeSha256Fits(version)) {
      throw new Error(`@nats-io/obj ${version ?? "(version unknown)"} is not one the native SHA-256 swap was checked against (${NATIVE_SHA256_CHECKED.join(", ")})`);
    }
    const req = createRequire(createRequire(import.meta.url).resolve("@nats-io/obj"));
    const mod = req("js-sha256") as { sha256: { create(): Sha256Like } };
    const original = mod.sha256.create.bind(mod.sha256);
    const native = (): Sha256Like => {
      const h = createHash("sha256");
      const w: Sha256Like = {
        update(d) {
          h.update(d);
          return w;
        },
        digest: () => h.digest(),
      };
      return w;
    };
    const probe = new TextEncoder().encode("troupe native sha256 probe");
    const a = Buffer.from(Uint8Array.from(original().update(probe).digest())).toString("hex");
    const b = Buffer.from(Uint8Array.from(native().update(probe).digest())).toString("hex");
    if (a !== b) throw new Error(`digest mismatch ${a} != ${b}`);
    mod.sha256.create = native;
    nativeHash = true;
  } catch (err) {
    componentLogger("objects").warn({ err: (err as Error).message }, "keeping the pure-JS SHA-256 of @nats-io/obj");
    nativeHash = false;
  }
  return nativeHash;
}

export interface ObjectsOptions {
  run: string;
  /** bucket purpose, e.g. "checkpoints" → bucket troupe_<run>_checkpoints */
  bucket: string;
  /** objects older than this are removed by the server (default: kept) */
  ttlMs?: number;
  storage?: "file" | "memory";
  /** chunk size (default 1 MiB, capped by the server's max_payload) */
  chunkBytes?: number;
  /** how long one operation is retried across reconnects (default 60 s) */
  deadlineMs?: number;
}

export interface StoredObject {
  readonly name: string;
  readonly size: number;
  /** "SHA-256=<base64url>" */
  readonly digest: string;
}

export interface Objects {
  readonly bucket: string;
  readonly store: ObjectStore;
  put(name: string, data: Uint8Array): Promise<StoredObject>;
  /** the bytes, digest-verified; throws NotFoundError or ObjectIntegrityError */
  get(name: string, expect?: { digest?: string; size?: number }): Promise<Uint8Array>;
  info(name: string): Promise<StoredObject | null>;
  delete(name: string): Promise<void>;
  list(): Promise<StoredObject[]>;
}

function toStored(i: ObjectInfo): StoredObject {
  return { name: i.name, size: i.size, digest: i.digest };
}

/**
 * Opens (creates) a bucket. Every operation is reconnect-safe (retry.ts): a put repeated after a
 * lost acknowledgement replaces the object with the same bytes; integrity and not-found errors
 * are final.
 */
export async function openObjects(nc: NatsConnection, opts: ObjectsOptions): Promise<Objects> {
  installNativeSha256();
  const bucket = bucketName(opts.run, opts.bucket);
  const safe = <R>(what: string, op: () => Promise<R>) => reconnectSafe(nc, op, { what: `${what} (${bucket})`, deadlineMs: opts.deadlineMs });
  const store = await safe("open the object store", () =>
    new Objm(nc).create(bucket, {
      storage: (opts.storage ?? "file") as never,
      ...(opts.ttlMs ? { ttl: nanos(opts.ttlMs) } : {}),
    }),
  );
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  const chunk = Math.min(opts.chunkBytes ?? 1024 * 1024, maxPayload - 1024);

  return {
    bucket,
    store,
    async put(name, data) {
      const info = await safe(`put object ${name}`, () => store.putBlob({ name, options: { max_chunk_size: chunk } }, data));
      return toStored(info);
    },
    get: (name, expect = {}) => safe(`get object ${name}`, () => getVerified(name, expect)),
    async info(name) {
      const i = await safe(`info of object ${name}`, () => store.info(name));
      return i && !i.deleted ? toStored(i) : null;
    },
    async delete(name) {
      await safe(`delete object ${name}`, () => store.delete(name));
    },
    async list() {
      return (await safe("list objects", () => store.list())).filter((i) => !i.deleted).map(toStored);
    },
  };

  async function getVerified(name: string, expect: { digest?: string; size?: number }): Promise<Uint8Array> {
    const info = await store.info(name);
    if (!info || info.deleted) throw new NotFoundError(`object ${bucket}/${name} does not exist`);
    if (expect.digest && info.digest !== expect.digest) {
      throw new ObjectIntegrityError(`object ${bucket}/${name} has digest ${info.digest}, expected ${expect.digest}`);
    }
    let data: Uint8Array | null;
    try {
      data = await store.getBlob(name); // nats.js verifies the SHA-256 while reading
    } catch (err) {
      const msg = (err as Error).message;
      if (/digest/i.test(msg)) throw new ObjectIntegrityError(`object ${bucket}/${name} is corrupt: ${msg}`, { cause: err });
      throw err;
    }
    if (!data) throw new NotFoundError(`object ${bucket}/${name} disappeared while reading`);
    const size = expect.size ?? info.size;
    if (data.byteLength !== size) {
      throw new ObjectIntegrityError(`object ${bucket}/${name} has ${data.byteLength} bytes, expected ${size}`);
    }
    return data;
  }
}

/** A BlobStore for large tensors: each put is a new object named by a fresh id. */
export function objectBlobStore(objects: Objects): BlobStore {
  return {
    async put(data) {
      const name = `t-${nuid.next()}`;
      const s = await objects.put(name, data);
      return { store: objects.bucket, name: s.name, digest: s.digest };
    },
    async get(blob) {
      if (blob.store !== objects.bucket) {
        throw new NotFoundError(`tensor lives in store ${blob.store}, this blob store reads ${objects.bucket}`);
      }
      return objects.get(blob.name, { digest: blob.digest, size: blob.bytes });
    },
  };
}
