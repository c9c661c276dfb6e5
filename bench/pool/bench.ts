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
// Measuring on a shared machine: each run's throughput is taken in its steady state (its first
// and last `clients` answers, the ramp-up and the drain, left out); the ratio reported is the
// median over rounds of bucketed / naive (each round measures both, back to back); and beside
// it the same ratio in rows per CPU-second of the workers, which other load cannot skew.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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
  /** Rows answered per second in the steady state (ramp-up and drain of each run left out). */
  readonly throughput: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** Padded slots / all computed slots. */
  readonly padding_ratio: number;
  readonly requests: number;
  readonly failed: number;
  /** Rows per second from the first request to the last answer of each run. */
  readonly throughput_end_to_end: number;
  /** Rows per second of the workers' own CPU time (Linux /proc; null elsewhere): what other load on the machine cannot skew. */
  readonly rows_per_worker_cpu_s: number | null;
  readonly tokens_per_s: number;
  readonly executions: number;
  readonly by_bucket: Readonly<Record<string, number>>;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

let clockTicks: number | null = null;
/** CPU seconds (user + system, all threads) of these processes so far; null off Linux. */
function cpuSeconds(pids: readonly number[]): number | null {
  if (process.platform !== "linux") return null;
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  let ticks = 0;
  for (const pid of pids) {
    // the fields after the command's closing parenthesis: utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / clockTicks;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Totals {
  answered: number;
  failed: number;
  wallMs: number;
  steadyRows: number;
  steadyMs: number;
  cpuS: number | null;
  tokens: number;
  latencies: number[];
  real: number;
  padded: number;
  executions: number;
  byBucket: Record<string, number>;
}

export async function runPoolBench(o: PoolBenchOptions = {}) {
  const workers = o.workers ?? 4;
  const cores = o.cores ?? 2;
  const requests = o.requests ?? 1200;
  const clients = o.clients ?? 128;
  const rounds = o.rounds ?? 6;
  const buckets = o.buckets ?? BENCH_BUCKETS;
  const log = o.log ?? (() => undefined);
  if (requests < 2 * clients + 100) throw new Error(`--requests must be at least 2 x clients + 100 (${2 * clients + 100}) to leave a steady state between ramp-up and drain`);
  const stream = requestStream(Math.max(...buckets.map((b) => b.seqLen)), o.seed ?? 1);
  log(`starting ${workers} workers x ${cores} cores (buckets ${buckets.map((b) => `${b.batch}x${b.seqLen}`).join(",")})`);
  const fleet = await startFleet({ workers, cores, buckets });
  const pids = () => Array.from({ length: workers }, (_, i) => fleet.local.worker(i).pid);
  const empty = (): Totals => ({ answered: 0, failed: 0, wallMs: 0, steadyRows: 0, steadyMs: 0, cpuS: 0, tokens: 0, latencies: [], real: 0, padded: 0, executions: 0, byBucket: {} });
  const totals: Record<PackingPolicy, Totals> = { naive: empty(), bucketed: empty() };
  const perRound: { round: number; naive: number; bucketed: number; ratio: number; ratio_cpu: number | null }[] = [];
  try {
    let offset = 0;
    for (let round = 1; round <= rounds; round++) {
      const rate: Partial<Record<PackingPolicy, { steady: number; cpu: number | null }>> = {};
      const order: PackingPolicy[] = round % 2 === 1 ? ["naive", "bucketed"] : ["bucketed", "naive"];
      for (const policy of order) {
        const pool: Pool = createPool({ workers: fleet.addresses, policy, buckets });
        try {
          await pool.ready({ workers, timeoutMs: 60_000 });
          await driveLoad({ pool, stream, clients, total: clients, offset: offset + 500_000 }); // warm-up, not counted
          const before = pool.metrics();
          const since = Date.now();
          const cpu0 = cpuSeconds(pids());
          const done: number[] = [];
          const r = await driveLoad({ pool, stream, clients, total: requests, offset, onAnswer: () => done.push(performance.now()) });
          const cpu1 = cpuSeconds(pids());
          const m = pool.metrics();
          // steady state: from the answer that ends the ramp-up to the one that starts the drain
          const steadyRows = done.length - 2 * clients;
          const steadyMs = done[done.length - 1 - clients]! - done[clients - 1]!;
          const cpuS = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
          const t = totals[policy];
          t.answered += r.answered;
          t.failed += r.failed;
          t.wallMs += r.wallMs;
          t.steadyRows += steadyRows;
          t.steadyMs += steadyMs;
          t.cpuS = t.cpuS !== null && cpuS !== null ? t.cpuS + cpuS : null;
          t.tokens += r.realTokens;
          t.latencies.push(...pool.latencies(since));
          t.real += m.realTokens - before.realTokens;
          t.padded += m.paddedTokens - before.paddedTokens;
          t.executions += m.executions - before.executions;
          for (const [b, n] of Object.entries(m.byBucket)) t.byBucket[b] = (t.byBucket[b] ?? 0) + n - (before.byBucket[b] ?? 0);
          rate[policy] = { steady: steadyRows / (steadyMs / 1000), cpu: cpuS ? r.answered / cpuS : null };
          const pad = (m.paddedTokens - before.paddedTokens) / Math.max(1, m.realTokens - before.realTokens + m.paddedTokens - before.paddedTokens);
          log(`round ${round} ${policy}: ${rate[policy]!.steady.toFixed(1)} rows/s steady (${(r.answered / (r.wallMs / 1000)).toFixed(1)} end to end), ${rate[policy]!.cpu?.toFixed(1) ?? "-"} rows per worker CPU-s, padding ${(pad * 100).toFixed(1)} %`);
        } finally {
          await pool.close();
        }
      }
      const n = rate.naive!;
      const b = rate.bucketed!;
      perRound.push({ round, naive: r3(n.steady), bucketed: r3(b.steady), ratio: r3(b.steady / n.steady), ratio_cpu: b.cpu !== null && n.cpu !== null ? r3(b.cpu / n.cpu) : null });
      offset += requests;
    }
  } finally {
    await fleet.stop();
  }
  const { quantile } = await import("../../hosts/pools/mod.js");
  const figures = (policy: PackingPolicy): PolicyFigures => {
    const t = totals[policy];
    return {
      throughput: r3(t.steadyRows / (t.steadyMs / 1000)),
      p50_ms: r3(quantile(t.latencies, 0.5)),
      p99_ms: r3(quantile(t.latencies, 0.99)),
      padding_ratio: r3(t.padded / Math.max(1, t.real + t.padded)),
      requests: t.answered,
      failed: t.failed,
      throughput_end_to_end: r3(t.answered / (t.wallMs / 1000)),
      rows_per_worker_cpu_s: t.cpuS ? r3(t.answered / t.cpuS) : null,
      tokens_per_s: Math.round(t.tokens / (t.wallMs / 1000)),
      executions: t.executions,
      by_bucket: Object.fromEntries(Object.entries(t.byBucket).filter(([, k]) => k > 0).sort()),
    };
  };
  const bucketed = figures("bucketed");
  const naive = figures("naive");
  const cpuRatios = perRound.map((x) => x.ratio_cpu).filter((x): x is number => x !== null);
  return {
    bucketed,
    naive,
    /** The median over rounds of bucketed / naive steady-state rows per second (each round measures both, back to back). */
    ratio: r3(median(perRound.map((x) => x.ratio))),
    /** The same for rows per worker CPU-second. */
    ratio_cpu: cpuRatios.length ? r3(median(cpuRatios)) : null,
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
      steady_state: `each run's first and last ${clients} answers (ramp-up, drain) left out of the throughput`,
      rounds,
      peer: "naive: first fit in arrival order up to the largest compiled batch, no grouping by length, first worker with a free core; same fleet, stream, clients and deadline as bucketed, back to back in alternating order",
      machine: { cpus: availableParallelism(), cpu: cpus()[0]?.model ?? "?", loadavg_1m: r3(loadavg()[0]!) },
    },
  };
}
