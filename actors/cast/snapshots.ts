// The director's SnapshotStore on JetStream KV: bucket troupe_<run>_director, key = run id,
// value = the persisted snapshot as JSON text (so it round-trips exactly as through the
// in-memory store: no undefined turning into null), revision = the KV entry's revision.
// save() is a compare-and-set: expected revision 0 creates the key, anything else updates it
// only if it is still at that revision; a lost race rejects with SnapshotConflictError.
import { type NatsConnection, isCasConflictError } from "../../hosts/mod.js";
import { SnapshotConflictError, isSnapshotConflictError, type PersistedDirectorSnapshot, type SnapshotStore } from "../director/mod.js";
import { t } from "../../protocol/mod.js";
import { openRunState } from "../../hosts/mod.js";
import { BUCKETS } from "./records.js";

export interface KvSnapshotStoreOptions {
  /** Writer address recorded in the stored envelopes. */
  readonly from?: string;
}

export async function createKvSnapshotStore(nc: NatsConnection, runId: string, opts: KvSnapshotStoreOptions = {}): Promise<SnapshotStore> {
  const state = await openRunState(nc, {
    run: runId,
    bucket: BUCKETS.director,
    schema: t.string({ maxLength: 8 << 20 }),
    history: 3,
    ...(opts.from ? { from: opts.from } : {}),
  });
  return {
    async load(id) {
      const e = await state.get(id);
      return e ? { snapshot: JSON.parse(e.value) as PersistedDirectorSnapshot, revision: e.revision } : null;
    },
    async save(id, snapshot, expectedRevision) {
      try {
        return await state.cas(id, JSON.stringify(snapshot), expectedRevision);
      } catch (err) {
        if (!isCasConflictError(err)) throw err;
        const actual = (await state.get(id).catch(() => null))?.revision ?? 0;
        throw new SnapshotConflictError(id, expectedRevision, actual, { cause: err });
      }
    },
  };
}

/**
 * The store a director saves through while it holds the run's lease: every save first checks
 * that its epoch is still current (FencedError otherwise), so a director that lost the run
 * stops saving over its successor.
 */
export function fencedSnapshotStore(store: SnapshotStore, checkOwner: () => Promise<void>): SnapshotStore {
  return {
    load: (id) => store.load(id),
    async save(id, snapshot, expectedRevision) {
      await checkOwner();
      return store.save(id, snapshot, expectedRevision);
    },
  };
}

/**
 * Run by a director that just took the lease, before resuming: stores the latest snapshot again
 * at its own revision, so a save an earlier director had in flight (checked before the lease
 * moved) can no longer land — its revision is stale from now on. Retried while such a save
 * slips in between the read and the write.
 */
export async function takeOverSnapshot(store: SnapshotStore, runId: string, tries = 10): Promise<void> {
  for (let i = 1; ; i++) {
    const stored = await store.load(runId);
    if (!stored) return;
    try {
      await store.save(runId, stored.snapshot, stored.revision);
      return;
    } catch (err) {
      if (!isSnapshotConflictError(err) || i >= tries) throw err;
    }
  }
}
