// Watching a run from outside the director: the director's snapshot is polled from KV (it is
// stored at every transition, so this sees every state, coalesced during training) and turned
// into report events for the progress view; the trainer's progress reports are heard too,
// so pretraining the base (inside stage 0's preparation) shows a moving bar. The watch ends
// when the director has written the run summary, when `stop` says so, or at the deadline.
import type { NatsConnection } from "../../../hosts/mod.js";
import { createCodec } from "../../../protocol/mod.js";
import { type PersistedDirectorSnapshot, type ReportEvent, type RunSummary, type SnapshotStore, createDirectorObserver } from "../../director/mod.js";
import { TrainProgress } from "../messages.js";
import { RUN_KEYS, type RunRecord } from "../records.js";

export interface WatchOptions {
  readonly nc: NatsConnection;
  readonly runId: string;
  readonly store: SnapshotStore;
  readonly record: RunRecord;
  /** Every report event, in order. */
  readonly onEvent: (e: ReportEvent) => void;
  /** Every new snapshot (a new revision). */
  readonly onSnapshot?: (s: PersistedDirectorSnapshot, revision: number) => void;
  /** Polled too: a reason to stop watching (e.g. the supervisor escalated), or null. */
  readonly stop?: () => string | null | Promise<string | null>;
  readonly pollMs?: number;
  readonly deadline?: number;
}

export interface WatchResult {
  readonly summary: RunSummary | null;
  readonly snapshot: PersistedDirectorSnapshot | null;
  /** Why the watch ended without a summary. */
  readonly reason: string | null;
}

export async function watchRun(o: WatchOptions): Promise<WatchResult> {
  const observer = createDirectorObserver();
  const codec = createCodec();
  let lastRevision = 0;
  let snapshot: PersistedDirectorSnapshot | null = null;
  let preparingStage0 = false;

  // the trainer's losses while it pretrains the base: progress of stage 0's preparation
  const sub = o.nc.subscribe(`troupe.${o.runId}._progress.*`, {
    callback: (err, msg) => {
      if (err || !preparingStage0) return;
      try {
        const env = codec.decode(msg.data);
        if (env.kind !== TrainProgress.kind) return;
        const p = TrainProgress.body.parse(env.body, env.kind);
        const last = p.points[p.points.length - 1];
        if (!last || !p.jobId.startsWith("base-")) return;
        o.onEvent({ type: "progress", stage: 0, attempt: 1, step: last.step, steps: p.steps, losses: { base_pretrain: last.loss }, tokens: last.tokens });
      } catch {
        // a progress report we cannot read is only a missed frame of the view
      }
    },
  });
  try {
    for (;;) {
      const stored = await o.store.load(o.runId).catch(() => null);
      if (stored && stored.revision !== lastRevision) {
        lastRevision = stored.revision;
        snapshot = stored.snapshot;
        o.onSnapshot?.(snapshot, stored.revision);
        for (const e of observer.observe(snapshot)) o.onEvent(e);
        preparingStage0 = JSON.stringify(snapshot.value) === JSON.stringify({ stage0: "preparing" });
      }
      const summary = await o.record.get<RunSummary>(RUN_KEYS.summary).catch(() => null);
      if (summary) {
        // the final snapshot was stored before the summary: show the end too
        const last = await o.store.load(o.runId).catch(() => null);
        if (last && last.revision !== lastRevision) {
          snapshot = last.snapshot;
          o.onSnapshot?.(snapshot, last.revision);
          for (const e of observer.observe(snapshot)) o.onEvent(e);
        }
        return { summary, snapshot, reason: null };
      }
      const why = (await o.stop?.()) ?? (o.deadline !== undefined && Date.now() > o.deadline ? "the run did not finish before its deadline" : null);
      if (why) {
        // the summary may have landed since it was read above (a director writes it, then exits)
        const late = await o.record.get<RunSummary>(RUN_KEYS.summary).catch(() => null);
        if (late) continue;
        return { summary: null, snapshot, reason: why };
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    }
  } finally {
    sub.unsubscribe();
  }
}
