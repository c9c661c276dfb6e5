// `troupe chaos kill-actor`: a supervised worker processes a durable queue of jobs while its
// process is SIGKILLed several times, each time just after it stored a result. Two streams are
// read afterwards:
//   executions  every start and finish of a job, no deduplication: how often work was redone
//               (duplicated_executions, > 0 whenever a job was in flight at a kill) and how many
//               executions a kill cut short (interrupted_executions)
//   results     one result per job id (JetStream deduplication): duplicated_results must be 0 —
//               and is not when the worker publishes without deduplication (`dedup: false`)
// After the kills the driver waits, boundedly, for the queue to drain; whatever has no result
// then is `lost` (a number in the report, never a timeout error).
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { type Logger, componentLogger, deleteRunStreams, openNats, openWorkQueue } from "../../hosts/mod.js";
import type { SupervisionEventBody } from "../../protocol/mod.js";
import { startSupervisor } from "../runtime/mod.js";
import {
  ChaosJob,
  checkExecutions,
  checkResults,
  ensureExecutionsStream,
  ensureResultsStream,
  jobId,
  jobTensor,
  resultsStream,
  resultsSubject,
} from "./jobs.js";
import { percentile, until } from "./poll.js";
import "../roles.js";

export interface KillActorOptions {
  /** an external server; default: an embedded one */
  natsUrl?: string;
  jobs?: number;
  kills?: number;
  /** CPU time per job (the stand-in for real work), default 3 ms */
  workMs?: number;
  /** redelivery delay of a job whose worker died, default 1000 ms */
  ackWaitMs?: number;
  /** Longest wait for each kill's moment and restart (default 300 s). */
  timeoutMs?: number;
  /** Longest wait for the queue to drain after the kills; what has no result then is lost (default 120 s). */
  settleMs?: number;
  /** Publish results with the job id as message id (default true); false shows duplicated_results move. */
  dedup?: boolean;
  /** Pause between storing a result and acking its job (default 0): a kill in it repeats the job. */
  holdAckMs?: number;
  /** Job numbers the worker fails permanently (dead-lettered): each is lost. */
  poison?: number[];
  /** Job numbers the worker never finishes: each is lost when the bounded wait ends. */
  stall?: number[];
  /** Attempts per job before it is dead-lettered (default 10). */
  maxAttempts?: number;
  log?: Logger;
}

export interface KillActorReport {
  restarts: number;
  restart_ms_p95: number;
  jobs: number;
  completed: number;
  /** jobs with no result when the bounded wait ended */
  lost: number;
  /** executions started, every one counted (no deduplication) */
  executions: number;
  /** executions beyond the first of their job: work done again after a kill */
  duplicated_executions: number;
  /** executions a kill cut short (started by a worker that never finished them) */
  interrupted_executions: number;
  /** results stored */
  results: number;
  /** stored results beyond the first of their job */
  duplicated_results: number;
  kills: number;
  restart_ms: number[];
  wrong_results: number;
  dead_letters: number;
  /** jobs whose result came from a second or later attempt (their first worker was killed) */
  retried_jobs: number;
  worker_processes: number;
  /** whether results were deduplicated by job id */
  dedup: boolean;
  /** how long the drain was waited for, and whether the wait ran out */
  settle_ms: number;
  settle_timed_out: boolean;
  elapsed_ms: number;
}

export async function runKillActor(o: KillActorOptions = {}): Promise<KillActorReport> {
  const jobs = o.jobs ?? 1000;
  const kills = o.kills ?? 3;
  const timeoutMs = o.timeoutMs ?? 300_000;
  const settleMs = o.settleMs ?? 120_000;
  const dedup = o.dedup ?? true;
  const maxAttempts = o.maxAttempts ?? 10;
  const config = {
    ackWaitMs: o.ackWaitMs ?? 1000,
    workMs: o.workMs ?? 3,
    maxAttempts,
    executions: true,
    dedup,
    holdAckMs: o.holdAckMs ?? 0,
    poison: o.poison ?? [],
    stall: o.stall ?? [],
  };
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  await using session = await openNats({ url: o.natsUrl, name: "troupe-chaos" });
  const { nc } = session;
  const run = `chaos-${randomBytes(4).toString("hex")}`;
  const jsm = await jetstreamManager(nc);
  await ensureResultsStream(jsm, run);
  await ensureExecutionsStream(jsm, run);
  const q = await openWorkQueue(nc, ChaosJob, { run, ackWaitMs: config.ackWaitMs, maxAttempts, backoffMs: [200, 500, 1000] });
  for (let n = 0; n < jobs; n += 100) {
    const batch = Array.from({ length: Math.min(100, jobs - n) }, (_, i) => n + i);
    await Promise.all(batch.map((k) => q.submit(jobId(k), { n: k, x: jobTensor(k) })));
  }
  log.info({ run, jobs }, "jobs submitted");

  // every result as it is published (repeats included): the moment to kill is just after one
  let onResult: (() => void) | null = null;
  const seenResults = nc.subscribe(resultsSubject(run), {
    callback: () => {
      const f = onResult;
      onResult = null;
      f?.();
    },
  });
  const nextResult = () => new Promise<void>((resolve) => (onResult = resolve));

  const started: { at: number; body: SupervisionEventBody }[] = [];
  const sup = startSupervisor({
    run,
    natsUrl: session.url,
    nc,
    children: [{ role: "chaos-worker", id: "0", config }],
    onEvent: (e) => {
      if (e.event === "started") started.push({ at: Date.now(), body: e });
    },
  });
  const restartMs: number[] = [];
  try {
    await sup.ready();
    const stored = async () => (await jsm.streams.info(resultsStream(run))).state.messages;
    for (let k = 1; k <= kills; k++) {
      const target = Math.floor((k * jobs) / (kills + 1));
      await until(async () => (await stored()) >= target && sup.children()[0]!.state === "running", `${target} results`, timeoutMs);
      if ((await stored()) >= jobs) break;
      const pid = sup.pidOf("chaos-worker", "0")!;
      await Promise.race([nextResult(), until(async () => (await stored()) >= jobs, "the last result", timeoutMs)]);
      if (sup.pidOf("chaos-worker", "0") !== pid) continue;
      const killedAt = Date.now();
      process.kill(pid, "SIGKILL");
      const back = (await until(() => started.find((s) => s.body.restarts === k), `restart ${k}`, timeoutMs, 2))!;
      restartMs.push(back.at - killedAt);
      log.info({ kill: k, pid, restart_ms: back.at - killedAt, done: await stored() }, "worker killed and restarted");
    }
    // a bounded wait: until nothing is left to deliver or acknowledge (every job acked or
    // dead-lettered), or time is up; the stored count alone would be fooled by duplicates
    const settleStart = Date.now();
    let timedOut = false;
    try {
      await until(
        async () => {
          const info = await q.info();
          return info.pending === 0 && info.ackPending === 0;
        },
        "the queue to drain",
        settleMs,
        20,
      );
    } catch {
      timedOut = true;
    }
    const waited = Date.now() - settleStart;
    const results = await checkResults(nc, run, jobs);
    const executions = await checkExecutions(nc, run);
    const info = await q.info();
    return {
      restarts: sup.children()[0]!.restarts,
      restart_ms_p95: percentile(restartMs, 95),
      jobs,
      completed: results.unique,
      lost: jobs - results.unique,
      executions: executions.executions,
      duplicated_executions: executions.duplicated,
      interrupted_executions: executions.interrupted,
      results: results.stored,
      duplicated_results: results.duplicated,
      kills: restartMs.length,
      restart_ms: restartMs,
      wrong_results: results.wrong,
      dead_letters: info.deadLetters,
      retried_jobs: results.retried,
      worker_processes: results.pids,
      dedup,
      settle_ms: waited,
      settle_timed_out: timedOut,
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    seenResults.unsubscribe();
    await sup.stop();
    // on an external server, leave nothing of this run behind (an embedded one is removed whole)
    if (!session.server) await deleteRunStreams(session.nc, run).catch(() => undefined);
  }
}
