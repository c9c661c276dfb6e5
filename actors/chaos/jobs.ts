// The jobs of the chaos and restart scenarios: a deterministic f32 vector per job number, a
// result with its sum of squares, and a results stream that stores one result per job id
// (JetStream deduplication), so a job redelivered after a crash never counts twice.
import { RetentionPolicy, StorageType, jetstream } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream } from "../../hosts/mod.js";
import { type WireTensor, checkToken, createCodec, defineMessage, t, typedView, wireTensor } from "../../protocol/mod.js";


export const ChaosJob = defineMessage("chaos.job", t.object({ n: t.int({ min: 0 }), x: t.tensor({ dtypes: ["f32"], rank: 1 }) }));
export const ChaosResult = defineMessage(
  "chaos.result",
  t.object({ job: t.string(), n: t.int(), sumsq: t.number(), pid: t.int(), attempt: t.int({ min: 1 }) }),
);

export const JOB_VALUES = 256;

/** The input of job n: 256 values that depend on n, so every result can be checked. */
export function jobTensor(n: number): WireTensor {
  const x = new Float32Array(JOB_VALUES);
  for (let i = 0; i < JOB_VALUES; i++) x[i] = ((n * 31 + i * 17) % 101) / 10 - 5;
  return wireTensor("f32", [JOB_VALUES], x);
}

export function sumOfSquares(x: WireTensor): number {
  const v = typedView(x as WireTensor & { dtype: "f32" });
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return s;
}

export function jobId(n: number): string {
  return `job-${n}`;
}

export function resultsStream(run: string): string {
  return `TROUPE_${checkToken("run", run)}_RESULTS`;
}
export function resultsSubject(run: string): string {
  return `troupe.${checkToken("run", run)}._results`;
}

export async function ensureResultsStream(jsm: Parameters<typeof ensureStream>[0], run: string): Promise<void> {
  await ensureStream(jsm, {
    name: resultsStream(run),
    subjects: [resultsSubject(run)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(30 * 60_000),
  });
}

export interface ResultsCheck {
  /** result messages stored */
  stored: number;
  /** distinct job ids among them */
  unique: number;
  /** stored results beyond the first for their job */
  duplicated: number;
  /** results whose value does not match the job's input */
  wrong: number;
  /** distinct worker processes that produced results */
  pids: number;
  /** results produced by a second or later attempt of their job */
  retried: number;
}

/** Reads every stored result and checks it against its job. */
export async function checkResults(nc: NatsConnection, run: string, jobs: number): Promise<ResultsCheck> {
  const codec = createCodec();
  const js = jetstream(nc);
  const stream = resultsStream(run);
  const total = (await (await js.jetstreamManager()).streams.info(stream)).state.messages;
  const seen = new Map<string, number>();
  const pids = new Set<number>();
  let wrong = 0;
  let retried = 0;
  if (total > 0) {
    const consumer = await js.consumers.get(stream);
    const it = await consumer.consume();
    let n = 0;
    for await (const m of it) {
      const r = ChaosResult.body.parse(codec.decode(m.data).body);
      seen.set(r.job, (seen.get(r.job) ?? 0) + 1);
      pids.add(r.pid);
      if (r.attempt > 1) retried++;
      if (r.job !== jobId(r.n) || r.n >= jobs || r.sumsq !== sumOfSquares(jobTensor(r.n))) wrong++;
      if (++n >= total) break;
    }
    it.stop();
  }
  let duplicated = 0;
  for (const c of seen.values()) duplicated += c - 1;
  return { stored: total, unique: seen.size, duplicated, wrong, pids: pids.size, retried };
}
