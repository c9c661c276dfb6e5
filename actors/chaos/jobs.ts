// The jobs of the chaos and restart scenarios: a deterministic f32 vector per job number, a
// result with its sum of squares, a results stream that stores one result per job id
// (JetStream deduplication, so a job redelivered after a crash is stored once), and an
// executions stream without deduplication where a worker records every start and finish of a
// job — the count that shows how often work was actually redone.
import { RetentionPolicy, StorageType, jetstream } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream } from "../../hosts/mod.js";
import { type WireTensor, checkToken, createCodec, defineMessage, t, typedView, wireTensor } from "../../protocol/mod.js";


export const ChaosJob = defineMessage("chaos.job", t.object({ n: t.int({ min: 0 }), x: t.tensor({ dtypes: ["f32"], rank: 1 }) }));
export const ChaosResult = defineMessage(
  "chaos.result",
  t.object({ job: t.string(), n: t.int(), sumsq: t.number(), pid: t.int(), attempt: t.int({ min: 1 }) }),
);

/** One execution of a job by a worker process: recorded when it starts and when it is done. */
export const ChaosExecution = defineMessage(
  "chaos.execution",
  t.object({ job: t.string(), n: t.int(), pid: t.int(), attempt: t.int({ min: 1 }), phase: t.oneOf(["start", "done"] as const) }),
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

export function executionsStream(run: string): string {
  return `TROUPE_${checkToken("run", run)}_EXECUTIONS`;
}
export function executionsSubject(run: string): string {
  return `troupe.${checkToken("run", run)}._executions`;
}

/** Every execution record is stored: no duplicate window, no message ids. */
export async function ensureExecutionsStream(jsm: Parameters<typeof ensureStream>[0], run: string): Promise<void> {
  await ensureStream(jsm, {
    name: executionsStream(run),
    subjects: [executionsSubject(run)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
  });
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

/** Every message stored in `stream` (as it is when called), decoded by `parse`, in order. */
async function readStream<T>(nc: NatsConnection, stream: string, parse: (body: unknown) => T): Promise<T[]> {
  const codec = createCodec();
  const js = jetstream(nc);
  const total = (await (await js.jetstreamManager()).streams.info(stream)).state.messages;
  const out: T[] = [];
  if (total === 0) return out;
  const it = await (await js.consumers.get(stream)).consume();
  for await (const m of it) {
    out.push(parse(codec.decode(m.data).body));
    if (out.length >= total) break;
  }
  it.stop();
  return out;
}

/** Reads every stored result and checks it against its job. */
export async function checkResults(nc: NatsConnection, run: string, jobs: number): Promise<ResultsCheck> {
  const results = await readStream(nc, resultsStream(run), (b) => ChaosResult.body.parse(b));
  const total = results.length;
  const seen = new Map<string, number>();
  const pids = new Set<number>();
  let wrong = 0;
  let retried = 0;
  for (const r of results) {
    seen.set(r.job, (seen.get(r.job) ?? 0) + 1);
    pids.add(r.pid);
    if (r.attempt > 1) retried++;
    if (r.job !== jobId(r.n) || r.n >= jobs || r.sumsq !== sumOfSquares(jobTensor(r.n))) wrong++;
  }
  let duplicated = 0;
  for (const c of seen.values()) duplicated += c - 1;
  return { stored: total, unique: seen.size, duplicated, wrong, pids: pids.size, retried };
}

export interface ExecutionsCheck {
  /** Executions started (every record, no deduplication). */
  executions: number;
  /** Distinct jobs that were started. */
  unique: number;
  /** Executions beyond the first of their job: work that was done again. */
  duplicated: number;
  /** Executions started by a worker that did not finish them (it was killed mid-job). */
  interrupted: number;
  /** Executions that finished (a worker may finish a job and die before its ack: it runs again). */
  finished: number;
}

/** Reads every execution record and counts starts, repeats and interruptions. */
export async function checkExecutions(nc: NatsConnection, run: string): Promise<ExecutionsCheck> {
  const records = await readStream(nc, executionsStream(run), (b) => ChaosExecution.body.parse(b));
  const key = (r: { job: string; pid: number; attempt: number }) => `${r.job}/${r.pid}/${r.attempt}`;
  const done = new Set(records.filter((r) => r.phase === "done").map(key));
  const starts = records.filter((r) => r.phase === "start");
  const unique = new Set(starts.map((r) => r.job)).size;
  return {
    executions: starts.length,
    unique,
    duplicated: starts.length - unique,
    interrupted: starts.filter((r) => !done.has(key(r))).length,
    finished: done.size,
  };
}
