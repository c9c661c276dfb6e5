// `troupe chaos kill-actor`: a supervised worker processes a durable queue of jobs while its
// process is SIGKILLed several times. Every job must complete exactly once as far as results
// go (results are stored deduplicated by job id) and nothing may be lost.
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { type Logger, componentLogger, deleteRunStreams, openNats, openWorkQueue } from "../../hosts/mod.js";
import type { SupervisionEventBody } from "../../protocol/mod.js";
import { startSupervisor } from "../runtime/mod.js";
import { ChaosJob, checkResults, ensureResultsStream, jobId, jobTensor, resultsStream } from "./jobs.js";
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
  timeoutMs?: number;
  log?: Logger;
}

export interface KillActorReport {
  restarts: number;
  restart_ms_p95: number;
  jobs: number;
  completed: number;
  lost: number;
  duplicated_results: number;
  kills: number;
  restart_ms: number[];
  wrong_results: number;
  dead_letters: number;
  /** jobs whose result came from a second or later attempt (their first worker was killed) */
  retried_jobs: number;
  worker_processes: number;
  elapsed_ms: number;
}

export async function runKillActor(o: KillActorOptions = {}): Promise<KillActorReport> {
  const jobs = o.jobs ?? 1000;
  const kills = o.kills ?? 3;
  const timeoutMs = o.timeoutMs ?? 300_000;
  const config = { ackWaitMs: o.ackWaitMs ?? 1000, workMs: o.workMs ?? 3 };
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  await using session = await openNats({ url: o.natsUrl, name: "troupe-chaos" });
  const { nc } = session;
  const run = `chaos-${randomBytes(4).toString("hex")}`;
  const jsm = await jetstreamManager(nc);
  await ensureResultsStream(jsm, run);
  const q = await openWorkQueue(nc, ChaosJob, { run, ackWaitMs: config.ackWaitMs, maxAttempts: 10, backoffMs: [200, 500, 1000] });
  for (let n = 0; n < jobs; n += 100) {
    const batch = Array.from({ length: Math.min(100, jobs - n) }, (_, i) => n + i);
    await Promise.all(batch.map((k) => q.submit(jobId(k), { n: k, x: jobTensor(k) })));
  }
  log.info({ run, jobs }, "jobs submitted");

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
      const killedAt = Date.now();
      process.kill(pid, "SIGKILL");
      const back = (await until(() => started.find((s) => s.body.restarts === k), `restart ${k}`, timeoutMs, 2))!;
      restartMs.push(back.at - killedAt);
      log.info({ kill: k, pid, restart_ms: back.at - killedAt, done: await stored() }, "worker killed and restarted");
    }
    await until(
      async () => {
        const info = await q.info();
        return (await stored()) >= jobs && info.pending === 0 && info.ackPending === 0;
      },
      "the queue to drain",
      timeoutMs,
      20,
    );
    const results = await checkResults(nc, run, jobs);
    const info = await q.info();
    return {
      restarts: sup.children()[0]!.restarts,
      restart_ms_p95: percentile(restartMs, 95),
      jobs,
      completed: results.unique,
      lost: jobs - results.unique,
      duplicated_results: results.duplicated,
      kills: restartMs.length,
      restart_ms: restartMs,
      wrong_results: results.wrong,
      dead_letters: info.deadLetters,
      retried_jobs: results.retried,
      worker_processes: results.pids,
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await sup.stop();
    // on an external server, leave nothing of this run behind (an embedded one is removed whole)
    if (!session.server) await deleteRunStreams(session.nc, run).catch(() => undefined);
  }
}
