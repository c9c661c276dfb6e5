// Run state in JetStream KV with compare-and-set. Values are protocol envelopes (so they carry
// the protocol version and the writer) validated by a schema on every read.
//
//   const state = await openRunState(nc, { run, bucket: "director", schema: Snapshot })
//   const cur = await state.get("curriculum")              // { value, revision } | null
//   await state.cas("curriculum", next, cur?.revision ?? 0) // throws CasConflictError if it moved
//   await state.update("curriculum", (prev) => next)       // read-modify-write, retried on conflict
import { JetStreamApiError } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Codec, type Schema, bucketName, createCodec, createStamper, t } from "../../protocol/mod.js";
import { CasConflictError } from "../errors.js";

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
}

export interface Versioned<T> {
  readonly value: T;
  readonly revision: number;
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
}

const WRONG_LAST_SEQUENCE = 10071;

function isConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === WRONG_LAST_SEQUENCE;
  return err instanceof Error && /wrong last sequence|key exists/i.test(err.message);
}

export async function openRunState<T>(nc: NatsConnection, opts: RunStateOptions<T>): Promise<RunState<T>> {
  const bucket = bucketName(opts.run, opts.bucket);
  const schema = (opts.schema ?? t.unknown()) as Schema<T>;
  const codec = opts.codec ?? createCodec();
  const stamper = createStamper(opts.run, opts.from ?? `troupe.${opts.run}._client.kv`);
  const kind = `kv.${opts.bucket}`;
  const kv: KV = await new Kvm(nc).create(bucket, {
    history: opts.history ?? 5,
    storage: opts.storage === "memory" ? ("memory" as never) : ("file" as never),
  });

  const encode = (value: T) => codec.encode(stamper.stamp(kind, value));
  const decode = (data: Uint8Array, key: string): T => {
    const env = codec.decode(data);
    return schema.parse(env.body, `${bucket}/${key}`);
  };

  const state: RunState<T> = {
    bucket,
    async get(key) {
      const e = await kv.get(key);
      if (!e || e.operation !== "PUT") return null;
      return { value: decode(e.value, key), revision: e.revision };
    },
    async put(key, value) {
      schema.parse(value, `${bucket}/${key}`);
      return await kv.put(key, encode(value));
    },
    async cas(key, value, expectedRevision) {
      schema.parse(value, `${bucket}/${key}`);
      try {
        if (expectedRevision === 0) return await kv.create(key, encode(value));
        return await kv.update(key, encode(value), expectedRevision);
      } catch (err) {
        if (isConflict(err)) throw new CasConflictError(key, expectedRevision, { cause: err });
        throw err;
      }
    },
    async update(key, fn, o = {}) {
      const retries = o.maxRetries ?? 10;
      for (let i = 0; ; i++) {
        const cur = await state.get(key);
        const next = fn(cur?.value);
        try {
          const revision = await state.cas(key, next, cur?.revision ?? 0);
          return { value: next, revision };
        } catch (err) {
          if (!(err instanceof CasConflictError) || i >= retries) throw err;
        }
      }
    },
    async delete(key) {
      await kv.delete(key);
    },
    async keys() {
      const out: string[] = [];
      for await (const k of await kv.keys()) out.push(k);
      return out;
    },
  };
  return state;
}
