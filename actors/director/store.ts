// Where the director keeps its snapshot between transitions. The JetStream KV implementation
// (key = run id, value = JSON bytes, revision = the KV entry's revision; save with
// expectedRevision 0 is `kv.create`, otherwise `kv.update(key, value, expectedRevision)`)
// drops in behind this interface; tests use the in-memory store below.
import { SnapshotConflictError } from "./errors.js";
import type { DirectorContext } from "./context.js";

/** What `actor.getPersistedSnapshot()` returns for the director, as far as readers need it. */
export interface PersistedDirectorSnapshot {
  readonly status: "active" | "done" | "error" | "stopped";
  readonly value: unknown;
  readonly context: DirectorContext;
  readonly [key: string]: unknown;
}

export interface StoredSnapshot {
  readonly snapshot: PersistedDirectorSnapshot;
  /** Increases with every save; 0 is never a stored revision. */
  readonly revision: number;
}

export interface SnapshotStore {
  /** The latest snapshot of a run, or null if the run has none. */
  load(runId: string): Promise<StoredSnapshot | null>;
  /**
   * Compare-and-set: stores `snapshot` if the stored revision is `expectedRevision` (0: no
   * snapshot yet) and resolves to the new revision; otherwise rejects with
   * SnapshotConflictError.
   */
  save(runId: string, snapshot: PersistedDirectorSnapshot, expectedRevision: number): Promise<number>;
}

export interface MemorySnapshotStore extends SnapshotStore {
  /** Every snapshot saved for a run, oldest first (for tests and debugging). */
  history(runId: string): readonly StoredSnapshot[];
}

/**
 * An in-process store. Values go through JSON on the way in and out, exactly as they would
 * through KV bytes, so anything that is not plain JSON fails here first.
 */
export function createMemorySnapshotStore(): MemorySnapshotStore {
  const runs = new Map<string, { json: string; revision: number }[]>();
  return {
    async load(runId) {
      const h = runs.get(runId);
      const last = h?.[h.length - 1];
      return last ? { snapshot: JSON.parse(last.json) as PersistedDirectorSnapshot, revision: last.revision } : null;
    },
    async save(runId, snapshot, expectedRevision) {
      const h = runs.get(runId) ?? [];
      const actual = h[h.length - 1]?.revision ?? 0;
      if (actual !== expectedRevision) throw new SnapshotConflictError(runId, expectedRevision, actual);
      const revision = actual + 1;
      h.push({ json: JSON.stringify(snapshot), revision });
      runs.set(runId, h);
      return revision;
    },
    history(runId) {
      return (runs.get(runId) ?? []).map((e) => ({
        snapshot: JSON.parse(e.json) as PersistedDirectorSnapshot,
        revision: e.revision,
      }));
    },
  };
}
