// Noticing runs whose owner is gone for good: a run's director renews its lease every 2 s, so a
// lease that stays unchanged (or absent) for `orphanMs` of the agent's connected time means no
// director runs it any more — the owner died without removing its placements. Measured by the
// agent's own clock from the moment it saw the lease change, never by comparing the director's
// clock with ours; time while the agent's own connection is down does not count.
import type { LinkState, NatsConnection } from "../../hosts/mod.js";
import { openDirectorLease } from "../cast/mod.js";

export interface OrphanWatchOptions {
  readonly nc: NatsConnection;
  /** the address the agent reads leases as */
  readonly from: string;
  readonly orphanMs: number;
  readonly link: LinkState;
  /** how often leases are read (default orphanMs / 12, at least 250 ms) */
  readonly everyMs?: number;
  readonly onOrphan: (run: string, silentMs: number) => void;
}

export interface OrphanWatch {
  follow(run: string): void;
  forget(run: string): void;
  stop(): void;
}

interface Followed {
  renewedAt: number | null;
  changedAt: number;
  reading: boolean;
}

export function watchOrphans(o: OrphanWatchOptions): OrphanWatch {
  const runs = new Map<string, Followed>();
  let downSince: number | null = null;
  const timer = setInterval(() => {
    const now = Date.now();
    if (!o.link.connected) {
      downSince ??= now;
      return;
    }
    if (downSince !== null) {
      // our own outage is nobody's silence
      for (const f of runs.values()) f.changedAt += now - downSince;
      downSince = null;
    }
    for (const [run, f] of runs) {
      if (f.reading) continue;
      f.reading = true;
      void openDirectorLease(o.nc, run, o.from)
        .then((lease) => lease.current())
        .then((cur) => {
          const at = cur?.renewedAt ?? null;
          if (at !== f.renewedAt) {
            f.renewedAt = at;
            f.changedAt = Date.now();
          } else if (Date.now() - f.changedAt > o.orphanMs && runs.get(run) === f) {
            runs.delete(run);
            o.onOrphan(run, Date.now() - f.changedAt);
          }
        })
        .catch(() => undefined)
        .finally(() => (f.reading = false));
    }
  }, o.everyMs ?? Math.max(250, Math.floor(o.orphanMs / 12)));
  timer.unref();
  return {
    follow(run) {
      if (!runs.has(run)) runs.set(run, { renewedAt: null, changedAt: Date.now(), reading: false });
    },
    forget: (run) => void runs.delete(run),
    stop: () => clearInterval(timer),
  };
}
