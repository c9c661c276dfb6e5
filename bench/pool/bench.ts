// `troupe bench pool`: the bucketed scheduler against the naive first-fit one, on the same
// fleet (4 worker processes × 2 cores by default), the same mixed-length request stream and
// the same closed-loop clients, measured in alternating rounds (naive first in odd rounds,
// bucketed first in even ones) so that a busy spell on a shared machine hits both.
//
// Why bucketing wins on a compiled accelerator, and how the emulation makes that a fair test:
// a Neuron core runs only graphs compiled for fixed shapes, and a graph costs the same whatever
// part of it is padding. The troupe worker does the same — it never runs an uncompiled shape
// and it computes every slot of the bucket it pads to (the padding is real work, not a delay) —
// so a scheduler that sends a batch of mixed lengths pays for its longest row in every row.
// Both schedulers batch up to the largest compiled batch; only the grouping differs.
// The ratio reported is the median over rounds of bucketed / naive rows per second (each
// round measures both); the totals over all rounds are reported beside it.
import { availableParallelism, cpus, loadavg } from "node:os";
import { type Bucket, type PackingPolicy, type Pool, createPool } from "../../hosts/pools/mod.js";
import { BENCH_BUCKETS, BENCH_GPT, startFleet } from "./fleet.js";
import { driveLoad, requestStream } from "./load.js";

export interface PoolBenchOptions {
  readonly workers?: number;
  readonly cores?: number;
  /** Rows per policy per round (default 1200). */
  readonly requests?: number;
  /** Closed-loop callers (default 128: twice the rows the fleet holds at once). */
  readonly clients?: number;
  readonly rounds?: number;
  readonly buckets?: readonly Bucket[];
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface PolicyFigures {
  /** Rows answered per second. */
  readonly throughput: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** Padded slots / all computed slots. */
  readonly padding_ratio: number;
  readonly requests: number;
  readonly failed: number;
  readonly wall_s: number;
  readonly tokens_per_s: number;
  readonly executions: number;
  readonly by_bucket: Readonly<Record<string, number>>;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runPoolBench(o: PoolBenchOptions = {}) {
  const workers = o.workers ?? 4;
  const cores = o.cores ?? 2;
  const requests = o.requests ?? 1200;
  const clients = o.clients ?? 128;
  const rounds = o.rounds ?? 4;
  const buckets = o.buckets ?? BENCH_BUCKETS;
  const log = o.log ?? (() => undefined);
  const stream = requestStream(Math.max(...buckets.map((b) => b.seqLen)), o.seed ?? 1);
  log(`starting ${workers} workers x ${cores} cores (buckets ${buckets.map((b) => `${b.batch}x${b.seqLen}`).join(",")})`);
  const fleet = await startFleet({ workers, cores, buckets });
  const totals: Record<PackingPolicy, { answered: number; failed: number; wallMs: number; tokens: number; latencies: number[]; real: number; padded: number; executions: number; byBucket: Record<string, number> }> = {
    naive: { answered: 0, failed: 0, wallMs: 0, tokens: 0, latencies: [], real: 0, padded: 0, executions: 0, byBucket: {} },
    bucketed: { answered: 0, failed: 0, wallMs: 0, tokens: 0, latencies: [], real: 0, padded: 0, executions: 0, byBucket: {} },
  };
  const perRound: { round: number; naive: number; bucketed: number; ratio: number }[] = [];
  try {
    let offset = 0;
    for (let round = 1; round <= rounds; round++) {
      const rate: Partial<Record<PackingPolicy, number>> = {};
      const order: PackingPolicy[] = round % 2 === 1 ? ["naive", "bucketed"] : ["bucketed", "naive"];
      for (const policy of order) {
        const pool: Pool = createPool({ workers: fleet.addresses, policy, buckets });
        try {
          await pool.ready({ workers, timeoutMs: 60_000 });
          await driveLoad({ pool, stream, clients, total: clients, offset: offset + 500_000 }); // warm-up, not counted
          const before = pool.metrics();
          const since = Date.now();
          const r = await driveLoad({ pool, stream, clients, total: requests, offset });
          const m = pool.metrics();
          const t = totals[policy];
          t.answered += r.answered;
          t.failed += r.failed;
          t.wallMs += r.wallMs;
          t.tokens += r.realTokens;
          t.latencies.push(...pool.latencies(since));
          rate[policy] = r.answered / (r.wallMs / 1000);
          t.real += m.realTokens - before.realTokens;
          t.padded += m.paddedTokens - before.paddedTokens;
          t.executions += m.executions - before.executions;
          for (const [b, n] of Object.entries(m.byBucket)) t.byBucket[b] = (t.byBucket[b] ?? 0) + n - (before.byBucket[b] ?? 0);
          log(`round ${round} ${policy}: ${r.answered} rows in ${(r.wallMs / 1000).toFixed(2)} s = ${(r.answered / (r.wallMs / 1000)).toFixed(1)} rows/s, padding ${((m.paddedTokens - before.paddedTokens) / Math.max(1, m.realTokens - before.realTokens + m.paddedTokens - before.paddedTokens) * 100).toFixed(1)} %`);
        } finally {
          await pool.close();
        }
      }
      perRound.push({ round, naive: r3(rate.naive!), bucketed: r3(rate.bucketed!), ratio: r3(rate.bucketed! / rate.naive!) });
      offset += requests;
    }
  } finally {
    await fleet.stop();
  }
  const { quantile } = await import("../../hosts/pools/mod.js");
  const figures = (policy: PackingPolicy): PolicyFigures => {
    const t = totals[policy];
    return {
      throughput: r3(t.answered / (t.wallMs / 1000)),
      p50_ms: r3(quantile(t.latencies, 0.5)),
      p99_ms: r3(quantile(t.latencies, 0.99)),
      padding_ratio: r3(t.padded / Math.max(1, t.real + t.padded)),
      requests: t.answered,
      failed: t.failed,
      wall_s: r3(t.wallMs / 1000),
      tokens_per_s: Math.round(t.tokens / (t.wallMs / 1000)),
      executions: t.executions,
      by_bucket: Object.fromEntries(Object.entries(t.byBucket).filter(([, n]) => n > 0).sort()),
    };
  };
  const bucketed = figures("bucketed");
  const naive = figures("naive");
  const ratios = perRound.map((x) => x.ratio).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  return {
    bucketed,
    naive,
    /** The median of the rounds' throughput ratios: one busy spell on a shared machine does not decide it. */
    ratio: r3(ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2),
    ratio_of_totals: r3(bucketed.throughput / naive.throughput),
    rounds: perRound,
    target: 1.3,
    setup: {
      workers,
      cores_per_worker: cores,
      buckets: buckets.map((b) => `${b.batch}x${b.seqLen}`),
      model: `GPT vocab ${BENCH_GPT.vocabSize}, block ${BENCH_GPT.blockSize}, ${BENCH_GPT.nEmbd} channels, ${BENCH_GPT.nHead} heads, ${BENCH_GPT.nLayer} layers (seeded weights), one kernel thread per core`,
      stream: stream.source,
      clients,
      requests_per_policy_per_round: requests,
      rounds,
      peer: "naive: first fit in arrival order up to the largest compiled batch, no grouping by length, first worker with a free core; same fleet, stream, clients and deadline as bucketed, in alternating rounds",
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? "?", loadavg_1m: r3(loadavg()[0]!) },
    },
  };
}
