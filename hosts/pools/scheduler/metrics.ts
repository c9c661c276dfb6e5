// What the pool scheduler counts: rows (requests) submitted, answered, failed, retried and
// timed out; executions and their padding (padded slots / all slots of the buckets that ran);
// latency from submission to answer (percentiles over any time window); and per worker its
// state, load and failures. Plain JSON, for the run report, the bench and the chaos drills.
import type { Execution } from "../proto.js";

export interface WorkerMetrics {
  readonly address: string;
  readonly state: string;
  readonly cores: number;
  /** Forward calls sent to it, answered in full, failed */
  readonly calls: number;
  readonly failedCalls: number;
  readonly rows: number;
  /** Distinct executions it reported (bucket runs) */
  readonly executions: number;
  /** Sum of execution compute time, ms */
  readonly busyMs: number;
  /** Times it was taken out of rotation (down or draining) and put back */
  readonly outOfRotation: number;
  readonly returned: number;
}

export interface PoolMetrics {
  readonly policy: string;
  readonly requests: number;
  readonly completed: number;
  readonly failed: number;
  /** Rows sent again after a failed or refused attempt (one count per resend). */
  readonly retried: number;
  readonly deadlineExceeded: number;
  readonly calls: number;
  readonly executions: number;
  readonly realTokens: number;
  readonly paddedTokens: number;
  /** padded / (real + padded): the share of computed slots that were padding */
  readonly paddingRatio: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly n: number };
  readonly byBucket: Readonly<Record<string, number>>;
  readonly workers: readonly WorkerMetrics[];
}

/** The q-quantile (0..1) of unsorted values, nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const round = (x: number, d = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

export function createPoolCounters(policy: string) {
  const c = { requests: 0, completed: 0, failed: 0, retried: 0, deadlineExceeded: 0, calls: 0, executions: 0, realTokens: 0, paddedTokens: 0 };
  const byBucket = new Map<string, number>();
  /** [answered at (ms since epoch), latency ms], the most recent 500 000 */
  const lat: [number, number][] = [];
  const seen = new WeakSet<object>();
  return {
    c,
    /** An execution report (each counted once, however many chunks carry it). */
    execution(e: Execution, worker: { executions: number; busyMs: number }) {
      if (seen.has(e)) return;
      seen.add(e);
      c.executions++;
      c.realTokens += e.realTokens;
      c.paddedTokens += e.paddedTokens;
      worker.executions++;
      worker.busyMs += e.computeMs;
      const k = `${e.bucket?.batch ?? 0}x${e.bucket?.seqLen ?? 0}`;
      byBucket.set(k, (byBucket.get(k) ?? 0) + 1);
    },
    answered(ms: number) {
      c.completed++;
      lat.push([Date.now(), ms]);
      if (lat.length > 500_000) lat.splice(0, lat.length - 500_000);
    },
    /** Latencies of rows answered in [from, to) (ms since epoch). */
    latencies(from = 0, to = Infinity): number[] {
      return lat.filter(([at]) => at >= from && at < to).map(([, ms]) => ms);
    },
    snapshot(workers: readonly WorkerMetrics[]): PoolMetrics {
      const all = lat.map(([, ms]) => ms);
      const slots = c.realTokens + c.paddedTokens;
      return {
        policy,
        ...c,
        paddingRatio: slots === 0 ? 0 : round(c.paddedTokens / slots, 4),
        latencyMs: { p50: round(quantile(all, 0.5)), p90: round(quantile(all, 0.9)), p99: round(quantile(all, 0.99)), max: round(quantile(all, 1)), n: all.length },
        byBucket: Object.fromEntries([...byBucket].sort()),
        workers,
      };
    },
  };
}
