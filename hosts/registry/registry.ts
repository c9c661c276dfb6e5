// The host registry: one JetStream KV bucket for the whole cluster (troupe_shared_hosts, not
// per run: a host agent serves whichever runs place actors on it), one key per host name, the
// value a HostRecord envelope validated on every read. Agents rewrite their record at every
// heartbeat; a clean leave deletes it; a record nobody rewrites expires after an hour, so a host
// that died long ago stops being listed. Whether a host is alive is decided by a watcher's own
// clock (liveness.ts), never by comparing clocks of different machines.
import type { NatsConnection } from "@nats-io/transport-node";
import { HostNameTakenError } from "../errors.js";
import { type RunState, type WatchedEntry, openRunState } from "../nats/kv.js";
import { pause } from "../pause.js";
import { type HostRecord, HostRecordSchema } from "./record.js";

/** The pseudo-run whose buckets belong to the cluster rather than to one run (troupe_shared_*). */
export const SHARED_SCOPE = "shared";
export const REGISTRY_BUCKET = "hosts";
/** A record not rewritten for this long is dropped by the server. */
export const REGISTRY_TTL_MS = 60 * 60 * 1000;

export interface HostEntry {
  readonly record: HostRecord;
  readonly revision: number;
}

export interface HostRegistry {
  readonly bucket: string;
  put(record: HostRecord): Promise<number>;
  get(name: string): Promise<HostEntry | null>;
  /** deletes the host's record (a clean leave) */
  remove(name: string): Promise<void>;
  /** every listed record (alive or not: liveness.ts decides that) */
  list(): Promise<HostRecord[]>;
  /** every record's current value, then every write and delete (see RunState.watch) */
  watch(fn: (e: WatchedEntry<HostRecord>) => void): Promise<() => void>;
}

export async function openHostRegistry(nc: NatsConnection, o: { from?: string; deadlineMs?: number } = {}): Promise<HostRegistry> {
  const kv: RunState<HostRecord> = await openRunState(nc, {
    run: SHARED_SCOPE,
    bucket: REGISTRY_BUCKET,
    schema: HostRecordSchema,
    history: 1,
    ttlMs: REGISTRY_TTL_MS,
    from: o.from ?? `troupe.${SHARED_SCOPE}._hosts`,
    ...(o.deadlineMs ? { deadlineMs: o.deadlineMs } : {}),
  });
  const get = async (name: string): Promise<HostEntry | null> => {
    const v = await kv.get(name);
    return v ? { record: v.value, revision: v.revision } : null;
  };
  return {
    bucket: kv.bucket,
    put: (record) => kv.put(record.name, record),
    get,
    remove: (name) => kv.delete(name),
    async list() {
      const out: HostRecord[] = [];
      for (const k of await kv.keys()) {
        const e = await get(k).catch(() => null);
        if (e) out.push(e.record);
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    watch: (fn) => kv.watch(">", fn),
  };
}

/**
 * Makes sure no other live agent beats under `name` before this one takes it: a record of
 * another instance that is rewritten within twice its heartbeat period (at least `minWaitMs`)
 * belongs to a live agent (HostNameTakenError); a record that stays still is a dead agent's,
 * and is taken over.
 */
export async function claimHostName(registry: HostRegistry, name: string, instance: string, o: { minWaitMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const first = await registry.get(name);
  if (!first || first.record.instance === instance || first.record.state === "leaving") return;
  const waitMs = Math.max(o.minWaitMs ?? 1000, 2 * first.record.beatMs);
  const end = Date.now() + waitMs;
  while (Date.now() < end && !o.signal?.aborted) {
    await pause(Math.min(100, first.record.beatMs), o.signal);
    const now = await registry.get(name);
    if (!now) return; // it left
    if (now.revision !== first.revision && now.record.instance !== instance) {
      if (now.record.state === "leaving") return;
      throw new HostNameTakenError(name, `pid ${now.record.pid} on ${now.record.machine} (instance ${now.record.instance})`);
    }
  }
}
