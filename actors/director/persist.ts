// Saves the director's snapshot after every transition, in order, one save at a time.
// While a save is in flight, further snapshots queue; a queued snapshot whose state value
// equals the one queued before it replaces it (a burst of progress reports in one state is
// one save), so every state the chart enters is stored, in order, and the last snapshot is
// always stored last. The first failed save (a revision conflict: another director owns the
// run; or the store is down) stops the queue and is reported once through `onFailure`.
import type { PersistedDirectorSnapshot, SnapshotStore } from "./store.js";

export interface Persister {
  push(snapshot: PersistedDirectorSnapshot): void;
  /** Resolves when everything pushed so far is stored (or the persister has failed). */
  settled(): Promise<void>;
  /** Stops saving; anything queued is dropped (what a kill -9 does). */
  halt(): void;
  readonly revision: number;
  readonly failure: Error | null;
}

export function createPersister(opts: {
  store: SnapshotStore;
  runId: string;
  revision: number;
  onFailure: (err: Error) => void;
}): Persister {
  const { store, runId, onFailure } = opts;
  let revision = opts.revision;
  let failure: Error | null = null;
  let halted = false;
  const queue: { snapshot: PersistedDirectorSnapshot; key: string }[] = [];
  let inFlight: Promise<void> | null = null;
  let idle: (() => void)[] = [];

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !halted && failure === null) {
      const next = queue.shift()!;
      try {
        revision = await store.save(runId, next.snapshot, revision);
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
        queue.length = 0;
        onFailure(failure);
      }
    }
    inFlight = null;
    const waiters = idle;
    idle = [];
    for (const w of waiters) w();
  };

  return {
    push(snapshot) {
      if (halted || failure !== null) return;
      const key = JSON.stringify(snapshot.value);
      const last = queue[queue.length - 1];
      if (last && last.key === key) last.snapshot = snapshot;
      else queue.push({ snapshot, key });
      inFlight ??= drain();
    },
    settled() {
      if (inFlight === null) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
    halt() {
      halted = true;
      queue.length = 0;
    },
    get revision() {
      return revision;
    },
    get failure() {
      return failure;
    },
  };
}
