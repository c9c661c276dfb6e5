// Deciding which hosts are alive, from the heartbeats one watcher sees, by that watcher's own
// clock (so machines with skewed clocks are judged fairly). Pure: the caller feeds it what the
// registry watch delivers and the time, and sweeps it; watch.ts wires it to NATS.
//
//   unknown  listed in the registry when watching began, no heartbeat seen yet
//   up       a heartbeat was seen within `deadAfterMs`
//   dead     no heartbeat for `deadAfterMs` (an unknown host too: it never beat while watched)
//   left     its agent said it was leaving, or deleted its record (a clean leave)
//
// A host that beats again after `dead` or `left` is `up` again (event "up", `rejoined`); a new
// agent process under the same name is a new `instance` (event "up", `restarted`).
import type { HostRecord } from "./record.js";

export const HOST_STATUSES = ["unknown", "up", "dead", "left"] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

export interface HostView {
  readonly name: string;
  readonly status: HostStatus;
  /** the last record seen (null: deleted before we saw one) */
  readonly record: HostRecord | null;
  /** when (watcher's clock) its last heartbeat arrived, or when we learned of it if none did */
  readonly lastBeatAt: number;
  /** a heartbeat of it arrived while we watched */
  readonly confirmed: boolean;
}

export type LivenessEvent =
  | { readonly kind: "up"; readonly host: string; readonly at: number; readonly record: HostRecord; readonly rejoined: boolean; readonly restarted: boolean }
  | { readonly kind: "dead"; readonly host: string; readonly at: number; readonly record: HostRecord | null; readonly lastBeatAt: number; readonly silentMs: number; readonly confirmed: boolean }
  | { readonly kind: "left"; readonly host: string; readonly at: number; readonly record: HostRecord | null };

export interface LivenessTable {
  readonly deadAfterMs: number;
  /**
   * A registry entry: `live` false for the values the watch starts with (they say the host
   * existed, not that it lives), true for writes seen as they happen; `record` null for a delete.
   */
  observe(name: string, record: HostRecord | null, live: boolean, at: number): LivenessEvent[];
  /** hosts silent for longer than deadAfterMs become dead */
  sweep(at: number): LivenessEvent[];
  /**
   * The watcher could not hear anyone until `at` (its own connection was down): nobody's
   * silence before then counts.
   */
  excuseUntil(at: number): void;
  hosts(): HostView[];
  get(name: string): HostView | undefined;
}

interface Entry {
  status: HostStatus;
  record: HostRecord | null;
  lastBeatAt: number;
  confirmed: boolean;
}

export function createLivenessTable(o: { deadAfterMs: number }): LivenessTable {
  if (!(o.deadAfterMs > 0)) throw new RangeError(`deadAfterMs must be > 0, got ${o.deadAfterMs}`);
  const entries = new Map<string, Entry>();
  const view = (name: string, e: Entry): HostView => ({ name, status: e.status, record: e.record, lastBeatAt: e.lastBeatAt, confirmed: e.confirmed });
  return {
    deadAfterMs: o.deadAfterMs,
    observe(name, record, live, at) {
      const e = entries.get(name);
      if (!live) {
        // the value the watch starts with: known, not yet alive
        if (!e && record && record.state === "up") entries.set(name, { status: "unknown", record, lastBeatAt: at, confirmed: false });
        return [];
      }
      if (record === null || record.state === "leaving") {
        if (!e) {
          entries.set(name, { status: "left", record, lastBeatAt: at, confirmed: false });
          return [];
        }
        const was = e.status;
        e.status = "left";
        if (record) e.record = record;
        return was === "left" || was === "dead" ? [] : [{ kind: "left", host: name, at, record: e.record }];
      }
      if (!e) {
        entries.set(name, { status: "up", record, lastBeatAt: at, confirmed: true });
        return [{ kind: "up", host: name, at, record, rejoined: false, restarted: false }];
      }
      const restarted = e.record !== null && e.record.instance !== record.instance;
      const was = e.status;
      e.record = record;
      e.lastBeatAt = at;
      e.confirmed = true;
      e.status = "up";
      if (was === "up" && !restarted) return [];
      return [{ kind: "up", host: name, at, record, rejoined: was === "dead" || was === "left", restarted }];
    },
    sweep(at) {
      const out: LivenessEvent[] = [];
      for (const [name, e] of entries) {
        if ((e.status === "up" || e.status === "unknown") && at - e.lastBeatAt > o.deadAfterMs) {
          e.status = "dead";
          out.push({ kind: "dead", host: name, at, record: e.record, lastBeatAt: e.lastBeatAt, silentMs: at - e.lastBeatAt, confirmed: e.confirmed });
        }
      }
      return out;
    },
    excuseUntil(at) {
      for (const e of entries.values()) if ((e.status === "up" || e.status === "unknown") && e.lastBeatAt < at) e.lastBeatAt = at;
    },
    hosts: () => [...entries].map(([n, e]) => view(n, e)).sort((a, b) => a.name.localeCompare(b.name)),
    get(name) {
      const e = entries.get(name);
      return e ? view(name, e) : undefined;
    },
  };
}
