// The accelerator pools of a run (scenario cast.teacher.pool / cast.evaluator.pool) in its
// report: each pool's metrics as rows of the benchmarks table, and a sentence.
import type { PoolRecord } from "../actors/cast/mod.js";
import type { BenchmarkRow } from "./model.js";

type PoolMetrics = PoolRecord["metrics"];

/** A pool's metrics as report rows (the report's benchmarks table) and a sentence. */
export function poolReport(rec: PoolRecord): { rows: BenchmarkRow[]; note: string } {
  const m: PoolMetrics = rec.metrics;
  const pre = `${rec.role} pool`;
  const rows: BenchmarkRow[] = [
    { name: `${pre}: requests`, value: m.requests, unit: "rows", note: `${m.completed} answered, ${m.failed} failed, ${m.retried} retried, ${m.deadlineExceeded} past their deadline` },
    { name: `${pre}: padding`, value: Math.round(m.paddingRatio * 1000) / 10, unit: "%", note: `${m.paddedTokens} padded of ${m.realTokens + m.paddedTokens} computed slots in ${m.executions} executions` },
    { name: `${pre}: latency p50`, value: m.latencyMs.p50, unit: "ms", note: `p90 ${m.latencyMs.p90}, max ${m.latencyMs.max}` },
    { name: `${pre}: latency p99`, value: m.latencyMs.p99, unit: "ms", note: null },
    ...m.workers.map((w) => ({
      name: `${pre}: worker ${w.address}`,
      value: w.rows,
      unit: "rows",
      note: `${w.executions} executions, ${w.busyMs} ms busy, ${w.failedCalls} failed calls, out of rotation ${w.outOfRotation}×, returned ${w.returned}× (${w.state})`,
    })),
  ];
  const buckets = Object.entries(m.byBucket).map(([b, n]) => `${b} ${n}`).join(", ");
  return { rows, note: `The ${rec.role}'s pool (${rec.origin}) answered ${m.completed} of ${m.requests} rows, ${m.retried} retried, padding ${(m.paddingRatio * 100).toFixed(1)} %, executions by bucket: ${buckets || "none"}.` };
}
