// Watching the host registry live: the liveness table (liveness.ts) fed by a KV watch, swept
// a few times per `deadAfterMs`, and a wait for the hosts a run needs. A host is declared dead
// at most `deadAfterMs` + one sweep after its last heartbeat reached us.
//
// The watcher's own outage is nobody's fault: while its connection to NATS is down the sweep
// stops, and once it is back the sweep resumes when the first registry entry arrives again (the
// agents are heard again) — or `deadAfterMs` after the reconnect if none does — and every
// host's silence counts from then. A server restart therefore never kills a host; it can delay
// a real death's detection by up to `deadAfterMs`.
import type { NatsConnection } from "@nats-io/transport-node";
import { HostsMissingError } from "../errors.js";
import { linkState } from "../nats/link-state.js";
import { pause } from "../pause.js";
import { type HostView, type LivenessEvent, createLivenessTable } from "./liveness.js";
import type { HostRecord } from "./record.js";
import { type HostRegistry, openHostRegistry } from "./registry.js";

export interface HostWatchOptions {
  readonly deadAfterMs: number;
  /** how often silence is checked (default deadAfterMs / 10, between 20 and 250 ms) */
  readonly sweepMs?: number;
  readonly onEvent?: (e: LivenessEvent) => void;
  /** every heartbeat as it arrives (a host's record: what it runs and how that goes) */
  readonly onBeat?: (host: string, record: HostRecord) => void;
  readonly registry?: HostRegistry;
  /** the clock (default Date.now) */
  readonly now?: () => number;
}

export interface HostWatcher {
  readonly deadAfterMs: number;
  hosts(): HostView[];
  get(name: string): HostView | undefined;
  /**
   * Resolves once every named host has heartbeaten while we watched and is up; rejects with
   * HostsMissingError naming who is missing and why after `timeoutMs`.
   */
  waitFor(names: readonly string[], o: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** whether the watcher currently holds off declaring deaths (its own connection is down) */
  readonly excusing: boolean;
  stop(): void;
}

export function missingReason(v: HostView | undefined, now: number): string {
  if (!v) return "never registered";
  const ago = `${((now - v.lastBeatAt) / 1000).toFixed(1)} s ago`;
  switch (v.status) {
    case "unknown":
      return "listed, but no heartbeat came while waiting (its agent is not running)";
    case "dead":
      return v.confirmed ? `heartbeats stopped (last one ${ago})` : "listed, but no heartbeat came while waiting (its agent is not running)";
    case "left":
      return "its agent left (stopped cleanly)";
    default:
      return "up";
  }
}

export async function watchHosts(nc: NatsConnection, o: HostWatchOptions): Promise<HostWatcher> {
  const now = o.now ?? Date.now;
  const table = createLivenessTable({ deadAfterMs: o.deadAfterMs });
  const registry = o.registry ?? (await openHostRegistry(nc));
  const emit = (events: LivenessEvent[]) => {
    for (const e of events) {
      try {
        o.onEvent?.(e);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  const link = linkState(nc);
  let excusing = false;
  let excuseEnd = 0;
  let stopped = false;
  const endExcuse = () => {
    excusing = false;
    table.excuseUntil(now());
  };
  const armDisconnect = (): void => {
    if (stopped) return;
    link.onDisconnect(() => {
      if (stopped) return;
      excusing = true;
      excuseEnd = Number.POSITIVE_INFINITY;
      void link.whenConnected().then(() => {
        excuseEnd = now() + o.deadAfterMs;
        armDisconnect();
      });
    });
  };
  armDisconnect();

  const unwatch = await registry.watch((e) => {
    if (excusing && excuseEnd !== Number.POSITIVE_INFINITY) endExcuse(); // heard from the cluster again
    emit(table.observe(e.key, e.value, e.update, now()));
    if (e.update && e.value) {
      try {
        o.onBeat?.(e.key, e.value);
      } catch {
        // a listener's failure is its own
      }
    }
  });
  const sweepMs = o.sweepMs ?? Math.min(250, Math.max(20, Math.floor(o.deadAfterMs / 10)));
  const timer = setInterval(() => {
    if (excusing) {
      if (now() < excuseEnd) return;
      endExcuse();
    }
    emit(table.sweep(now()));
  }, sweepMs);
  timer.unref();

  return {
    deadAfterMs: o.deadAfterMs,
    hosts: () => table.hosts(),
    get: (name) => table.get(name),
    get excusing() {
      return excusing;
    },
    async waitFor(names, w) {
      const t0 = now();
      const ready = () => names.every((n) => table.get(n)?.status === "up");
      while (!ready()) {
        if (now() - t0 > w.timeoutMs) {
          const missing = names.filter((n) => table.get(n)?.status !== "up").map((n) => ({ host: n, why: missingReason(table.get(n), now()) }));
          throw new HostsMissingError(now() - t0, missing);
        }
        if (w.signal?.aborted) throw w.signal.reason;
        await pause(Math.min(50, sweepMs), w.signal);
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      unwatch();
    },
  };
}
