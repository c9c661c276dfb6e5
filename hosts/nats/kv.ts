// Run state in JetStream KV with compare-and-set. Values are protocol envelopes (so they carry
// the protocol version and the writer) validated by a schema on every read.
//
//   const state = await openRunState(nc, { run, bucket: "director", schema: Snapshot })
//   const cur = await state.get("curriculum")              // { value, revision } | null
//   await state.cas("curriculum", next, cur?.revision ?? 0) // throws CasConflictError if it moved
//   await state.update("curriculum", (prev) => next)       // read-modify-write, retried on conflict
//
// Every operation is reconnect-safe (retry.ts): it waits for the connection, fails an attempt
// fast on a disconnect and retries transient errors until `deadlineMs` (then
// NatsUnavailableError). A write whose acknowledgement was lost may still have landed, so a
// retried write first re-reads the key: if it holds our bytes (each write is a fresh envelope,
// so they are unique) the write landed and its revision is returned; a compare-and-set whose
// key moved to anything else is a CasConflictError, never a silent overwrite.
import { JetStreamApiError } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Codec, type Schema, bucketName, createCodec, createStamper, t } from "../../protocol/mod.js";
import { CasConflictError } from "../errors.js";
import { reconnectSafe } from "./retry.js";

export interface RunStateOptions<T> {
  run: string;
  /** bucket purpose, e.g. "director" → bucket troupe_<run>_director */
  bucket: string;
  schema?: Schema<T>;
  /** revisions kept per key (default 5, max 64) */
  history?: number;
  storage?: "file" | "memory";
  codec?: Codec;
  /** writer address recorded in stored envelopes */
  from?: string;
  /** how long one operation is retried across reconnects (default 60 s) */
  deadlineMs?: number;
  /** entries expire this long after their last write (default: never); fixed when the bucket is created */
  ttlMs?: number;
}

export interface Versioned<T> {
  readonly value: T;
  readonly revision: number;
}

/** How often operations had to be retried or held for a reconnect, and how many lost acknowledgements were found landed. */
export interface RunStateStats {
  readonly retries: number;
  /** attempts held back while the connection was down (sent once it was back) */
  readonly heldForReconnect: number;
  readonly landedAfterLostAck: number;
}

/** One stored revision of a key, with the address of its writer (from its envelope). */
export interface WatchedEntry<T> {
  readonly key: string;
  readonly revision: number;
  /** null for a delete */
  readonly value: T | null;
  readonly from: string;
  /** when the server stored it (ms since the epoch, the server's clock) */
  readonly created: number;
  /** false for the values a watch starts with, true for every write it sees after that */
  readonly update: boolean;
}

export interface RunState<T> {
  readonly bucket: string;
  get(key: string): Promise<Versioned<T> | null>;
  /** unconditional write; returns the new revision */
  put(key: string, value: T): Promise<number>;
  /** writes only if the key is still at `expectedRevision` (0: must not exist); new revision */
  cas(key: string, value: T, expectedRevision: number): Promise<number>;
  /** read, apply fn, CAS; retried on conflict up to `maxRetries` times (default 10) */
  update(key: string, fn: (prev: T | undefined) => T, opts?: { maxRetries?: number }): Promise<Versioned<T>>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
  /**
   * Calls `fn` with the key's current revision and every later one, as they are stored (an
   * ordered consumer: it follows the key across reconnects). `key` may be a wildcard (`>`,
   * `host.*`): then every matching key's current value comes first. Entries that do not decode
   * are skipped. Returns a function that stops watching.
   */
  watch(key: string, fn: (e: WatchedEntry<T>) => void): Promise<() => void>;
  stats(): RunStateStats;
}

// JetStream's "wrong last sequence" (and its "unknown" variant for a key never written)
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

function isConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return WRONG_LAST_SEQUENCE.has(err.code);
  return err instanceof Error && /wrong last sequence|key exists/i.test(err.message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

const live = (e: KvEntry | null): e is KvEntry => e !== null && e.operation === "PUT";

export async function openRunState<T>(nc: NatsConnection, opts: RunStateOptions<T>): Promise<RunState<T>> {
  const bucket = bucketName(opts.run, opts.bucket);
  const schema = (opts.schema ?? t.unknown()) as Schema<T>;
  const codec = opts.codec ?? createCodec();
  const stamper = createStamper(opts.run, opts.from ?? `troupe.${opts.run}._client.kv`);
  const kind = `kv.${opts.bucket}`;
  let retries = 0;
  let held = 0;
  let landed = 0;
  const safe = <R>(what: string, op: (attempt: number) => Promise<R>) =>
    reconnectSafe(nc, op, { what: `${what} ${bucket}`, deadlineMs: opts.deadlineMs, onRetry: () => void retries++, onWait: () => void held++ });

  const kv: KV = await safe("open", () =>
    new Kvm(nc).create(bucket, {
      history: opts.history ?? 5,
      storage: opts.storage === "memory" ? ("memory" as never) : ("file" as never),
      ...(opts.ttlMs ? { ttl: opts.ttlMs } : {}),
    }),
  );

  const encode = (value: T) => codec.encode(stamper.stamp(kind, value));
  const decode = (data: Uint8Array, key: string): T => {
    const env = codec.decode(data);
    return schema.parse(env.body, `${bucket}/${key}`);
  };
  /** After a lost acknowledgement: the revision our bytes landed at, or null. */
  const landedAt = async (key: string, bytes: Uint8Array): Promise<{ revision: number | null; current: KvEntry | null }> => {
    const e = await kv.get(key);
    if (live(e) && sameBytes(e.value, bytes)) {
      landed++;
      return { revision: e.revision, current: e };
    }
    return { revision: null, current: e };
  };

  const state: RunState<T> = {
    bucket,
    async get(key) {
      const e = await safe(`get ${key} from`, () => kv.get(key));
      if (!live(e)) return null;
      return { value: decode(e.value, key), revision: e.revision };
    },
    async put(key, value) {
      schema.parse(value, `${bucket}/${key}`);
      const bytes = encode(value);
      return safe(`put ${key} to`, async (attempt) => {
        if (attempt > 1) {
          const { revision } = await landedAt(key, bytes);
          if (revision !== null) return revision;
        }
        return kv.put(key, bytes);
      });
    },
    async cas(key, value, expectedRevision) {
      schema.parse(value, `${bucket}/${key}`);
      const bytes = encode(value);
      const conflict = (cause?: unknown) => new CasConflictError(key, expectedRevision, cause === undefined ? undefined : { cause });
      return safe(`compare-and-set ${key} in`, async (attempt) => {
        if (attempt > 1) {
          const { revision, current } = await landedAt(key, bytes);
          if (revision !== null) return revision;
          const at = live(current) ? current.revision : 0;
          // a delete marker counts as "does not exist" for a create; anything else must not have moved
          if (expectedRevision === 0 ? live(current) : at !== expectedRevision) throw conflict();
        }
        try {
          if (expectedRevision === 0) return await kv.create(key, bytes);
          return await kv.update(key, bytes, expectedRevision);
        } catch (err) {
          if (isConflict(err)) throw conflict(err);
          throw err;
        }
      });
    },
    async update(key, fn, o = {}) {
      const max = o.maxRetries ?? 10;
      for (let i = 0; ; i++) {
        const cur = await state.get(key);
        const next = fn(cur?.value);
        try {
          const revision = await state.cas(key, next, cur?.revision ?? 0);
          return { value: next, revision };
        } catch (err) {
          if (!(err instanceof CasConflictError) || i >= max) throw err;
        }
      }
    },
    async delete(key) {
      await safe(`delete ${key} from`, () => kv.delete(key));
    },
    async keys() {
      return safe("list the keys of", async () => {
        const out: string[] = [];
        for await (const k of await kv.keys()) out.push(k);
        return out;
      });
    },
    async watch(key, fn) {
      const it = await safe(`watch ${key} in`, () => kv.watch({ key }));
      void (async () => {
        for await (const e of it) {
          try {
            const seen = { key: e.key, revision: e.revision, created: e.created.getTime(), update: e.isUpdate };
            if (e.operation !== "PUT") {
              fn({ ...seen, value: null, from: "" });
              continue;
            }
            const env = codec.decode(e.value);
            fn({ ...seen, value: schema.parse(env.body, `${bucket}/${e.key}`), from: env.from });
          } catch {
            // an entry we cannot read is not ours to report
          }
        }
      })();
      return () => it.stop();
    },
    stats: () => ({ retries, heldForReconnect: held, landedAfterLostAck: landed }),
  };
  return state;
}
