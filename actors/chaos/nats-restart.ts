// `troupe chaos nats-restart`: a two-host run (scenarios/tiny-hosts.yaml by default) on a cluster
// of its own (cluster.ts), during which the nats-server itself is killed -9 and started again on
// the same store, twice: a third and two thirds into stage 1's training (heard on the trainer's
// progress reports). The host agents, the director and the actors all ride it out on their
// reconnecting connections; the promises checked: the run ends done, every stage job is done (none
// lost, failed or cancelled), no stage's loss curve misses a step or has one twice (no progress
// event lost or duplicated), no host is declared dead or has its actors moved (a server restart
// is nobody's death), and the run does not hang.
import { type Logger, componentLogger, connectNats, pause } from "../../hosts/mod.js";
import { createCodec } from "../../protocol/mod.js";
import { type CastRunOptions, RUN_KEYS, TrainProgress, adapterJobId, openRunRecord, progressSubject, startCastRun } from "../cast/mod.js";
import type { CastRecord } from "../cast/placement/mod.js";
import { type ReportReader, auditJobs, duplicateCurveSteps, gatesDecided, missingCurveSteps } from "./audit.js";
import { type ClusterOptions, startCluster } from "./cluster.js";

/** A run that has not ended this long after the last restart is hung (the drill stops waiting). */
const GIVE_UP_S = 180;
const NO_KILL_GIVE_UP_S = 300;

export interface NatsRestartOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  /** how long the server stays down each time (default 1 s) */
  readonly outageS?: number;
  readonly wrap?: ClusterOptions["wrap"];
  /** each host's agent in its own network namespace pinned to its own core (the rig; root) */
  readonly namespaces?: boolean;
  readonly log?: Logger;
  /** the report layer's writer and reader, passed in from above (actors/ does not import report/) */
  readonly writeReport?: CastRunOptions["writeReport"];
  readonly readReport?: ReportReader;
}

export interface NatsRestartReport {
  readonly run_id: string;
  readonly hosts: readonly string[];
  readonly restarts: number;
  readonly outage_s: number;
  /** stage-1 steps at which the server was killed */
  readonly killed_at_steps: readonly number[];
  /** stage jobs recorded */
  readonly jobs: number;
  /** jobs not done (lost, failed or cancelled) + loss-curve steps missing */
  readonly lost: number;
  /** loss-curve steps recorded more than once */
  readonly duplicated: number;
  /** labels are the oracle's, cast from stage 2 on: null when the run had none to lose */
  readonly labels: null;
  readonly hosts_declared_dead: number;
  readonly actors_moved: number;
  readonly hung: boolean;
  readonly outcome: string;
  readonly gates_decided: boolean;
  readonly by_job: readonly { job: string; state: string; steps: number; final: number | null; deliveries: number }[];
  readonly failure: string | null;
  readonly report: string | null;
  readonly ok: boolean;
  readonly agent_logs?: Record<string, string[]>;
  /** where the agents ran: their own network namespaces (one core each) or this machine's loopback */
  readonly kind: "namespaces" | "loopback";
  readonly wall_s: number;
}

export async function runNatsRestart(o: NatsRestartOptions): Promise<NatsRestartReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  const hosts = (o.plan.hosts ?? []).map((h) => h.name);
  if (hosts.length < 2 || !o.plan.placement) throw new Error("chaos nats-restart needs a scenario with two or more hosts: and a placement: section (scenarios/tiny-hosts.yaml)");
  const outageS = o.outageS ?? 1;
  const cluster = await startCluster({ hosts, ...(o.wrap ? { wrap: o.wrap } : {}), ...(o.namespaces ? { namespaces: true } : {}) });
  const server = cluster.server;
  const nc = await connectNats(server, { name: "troupe-chaos-nats-restart" });
  const kills: number[] = [];
  let restarting: Promise<void> = Promise.resolve();
  let busy = false;
  let lastBack = 0;
  let lastStep = 0;
  let finished = false;
  try {
    const stop = () =>
      kills.length === 2 && !busy && Date.now() - lastBack > GIVE_UP_S * 1000 ? `the run did not end within ${GIVE_UP_S} s of the last restart (the drill gave up on it)`
        : kills.length === 0 && Date.now() - t0 > NO_KILL_GIVE_UP_S * 1000 ? `the run did not reach stage 1's training within ${NO_KILL_GIVE_UP_S} s (the drill gave up on it)`
          : null;
    const run = await startCastRun({ plan: o.plan, file: o.file ?? null, natsUrl: server.url, stop, ...(o.writeReport ? { writeReport: o.writeReport } : {}) });
    const codec = createCodec();
    const sub = nc.subscribe(progressSubject(run.runId, adapterJobId(1, 1)), {
      callback: (err, m) => {
        if (err || busy || kills.length >= 2) return;
        try {
          const p = TrainProgress.body.parse(codec.decode(m.data).body, TrainProgress.kind);
          const step = p.points[p.points.length - 1]?.step ?? 0;
          lastStep = Math.max(lastStep, step);
          // the first kill at a third of stage 1; the second follows once the clients are back
          // (below), wherever the run is by then: on a quiet machine the trainer may train to the
          // end during the outage, and the second kill then lands while the stage is judged
          if (kills.length > 0 || step < Math.ceil(p.steps / 3) || step >= p.steps) return;
          busy = true;
          kills.push(step);
          log.info({ step, restart: kills.length }, "killing nats-server (kill -9)");
          const outage = async () => {
            await server.kill();
            await pause(outageS * 1000);
            await server.restart();
            lastBack = Date.now();
            log.info({ restart: kills.length }, "nats-server is back on its store");
          };
          restarting = (async () => {
            await outage();
            // let the clients reconnect and the run move on, then the second kill if it still runs
            await pause(500);
            if (!finished) {
              kills.push(lastStep);
              log.info({ step: lastStep, restart: kills.length }, "killing nats-server again (kill -9)");
              await outage();
            }
            busy = false;
          })();
        } catch {
          // not a progress report we can read: no trigger
        }
      },
    });
    const result = await run.done.finally(() => {
      finished = true;
      sub.unsubscribe();
    });
    await restarting;
    const audit = await auditJobs(nc, run.runId);
    const cast = await (await openRunRecord(nc, run.runId)).get<CastRecord>(RUN_KEYS.cast);
    const listed = run.spec.curriculum.stages.map((s) => s.stage);
    const reportFile = result.report?.json ?? null;
    let missing = 0;
    let duplicated = 0;
    for (const st of listed.filter((s) => s > 0)) {
      missing += (await missingCurveSteps(reportFile, st, o.readReport)) ?? 0;
      duplicated += (await duplicateCurveSteps(reportFile, st, o.readReport)) ?? 0;
    }
    const notDone = audit.by_job.filter((j) => j.state !== "done").length;
    const summary = result.summary;
    const hung = summary === null && (result.failure ?? "").includes("gave up");
    const dead = (cast?.events ?? []).filter((e) => e.kind === "host_dead").length;
    const moved = (cast?.events ?? []).filter((e) => e.kind === "replaced").reduce((n, e) => n + e.actors.length, 0);
    const r = {
      restarts: kills.length, jobs: audit.jobs, lost: notDone + missing + (reportFile ? 0 : 1), duplicated, hung,
      outcome: summary?.outcome ?? result.failure ?? "failed", hostsDead: dead, moved,
    };
    const ok = judgeNatsRestart(r);
    return {
      run_id: run.runId,
      hosts,
      restarts: r.restarts,
      outage_s: outageS,
      killed_at_steps: kills,
      jobs: r.jobs,
      lost: r.lost,
      duplicated,
      labels: null,
      hosts_declared_dead: dead,
      actors_moved: moved,
      hung,
      outcome: r.outcome,
      gates_decided: gatesDecided(summary, listed),
      by_job: audit.by_job,
      failure: result.failure,
      report: reportFile,
      ok,
      ...(ok ? {} : { agent_logs: Object.fromEntries([...cluster.agents].map(([h, a]) => [h, a.log().split("\n").slice(-30)])) }),
      kind: cluster.kind,
      wall_s: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await cluster.stop();
  }
}

/** The drill's verdict (pure, so a test shows each count failing it). */
export function judgeNatsRestart(r: { restarts: number; jobs: number; lost: number; duplicated: number; hung: boolean; outcome: string; hostsDead: number; moved: number }): boolean {
  return r.restarts === 2 && r.jobs > 0 && r.lost === 0 && r.duplicated === 0 && !r.hung && r.outcome === "done" && r.hostsDead === 0 && r.moved === 0;
}
