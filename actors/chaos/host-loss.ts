// `troupe chaos host-loss`: a two-host run (scenarios/tiny-hosts.yaml by default) on a small
// cluster of its own (cluster.ts: a nats-server and one `troupe host` agent process per declared
// host), in which the host running the trainer loses its agent and every actor on it to kill -9
// mid-step in stage 1 (after the stage's first durable checkpoint). The promises checked:
//   detected   the director declares the host dead (cast record event `host_dead`) within
//              the bound (5 s by default; the scenario's placement.dead_after_s plus a sweep)
//   not hung   the run ends (done, or stopped with a report) within the give-up margin
//   outcome    on_host_loss: replace → "continued": the lost host's actors move to the survivor,
//              the trainer there resumes the job from its last checkpoint (step > 0) and the run
//              finishes done; on_host_loss: stop → "stopped-with-report": the stage stops and
//              the report says why (stopped.kind host_lost)
import { type Logger, componentLogger, connectNats, openHostRegistry } from "../../hosts/mod.js";
import { createCodec } from "../../protocol/mod.js";
import { type CastRunOptions, RUN_KEYS, type JobState, TrainProgress, adapterJobId, progressSubject, openJobStates, openRunRecord, startCastRun } from "../cast/mod.js";
import type { CastRecord, HostLoss } from "../cast/placement/mod.js";
import { type ClusterOptions, startCluster } from "./cluster.js";
import { type ReportReader, resumedStepsInReport } from "./audit.js";

/** The acceptance bound on detection. */
export const DETECT_BOUND_MS = 5000;
/** A run that has not ended this long after the kill is hung (the drill stops waiting). */
const GIVE_UP_S = 180;
/** A run that has not reached the kill this long after its start is hung too. */
const NO_KILL_GIVE_UP_S = 300;

export const HOST_LOSS_OUTCOMES = ["continued", "stopped-with-report", "failed"] as const;
export type HostLossOutcome = (typeof HOST_LOSS_OUTCOMES)[number];

export interface HostLossOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  /** overrides the scenario's placement.on_host_loss */
  readonly onHostLoss?: HostLoss;
  readonly wrap?: ClusterOptions["wrap"];
  /** each host's agent in its own network namespace pinned to its own core (the rig; root) */
  readonly namespaces?: boolean;
  readonly boundMs?: number;
  /** the report layer's writer and reader, passed in from above (actors/ does not import report/) */
  readonly writeReport?: CastRunOptions["writeReport"];
  readonly readReport?: ReportReader;
  readonly log?: Logger;
}

export interface HostLossReport {
  readonly run_id: string;
  readonly hosts: readonly string[];
  readonly on_host_loss: HostLoss;
  readonly dead_after_ms: number;
  /** the host killed, and what ran there for the run */
  readonly killed_host: string | null;
  readonly killed_pids: readonly number[];
  readonly killed_actors: readonly string[];
  readonly killed_at_step: number | null;
  readonly checkpoint_step: number | null;
  /** kill → the director's `host_dead` event */
  readonly detected_ms: number | null;
  readonly bound_ms: number;
  readonly hung: boolean;
  readonly outcome: HostLossOutcome;
  /** actor → host after the loss (continued) */
  readonly placed_after: readonly string[];
  /** steps the trainer resumed the job from (its job state, through the report) */
  readonly resumed_from: readonly number[];
  readonly run_outcome: string;
  readonly stopped: { readonly kind: string; readonly reason: string } | null;
  readonly stages: readonly { stage: number; passed: boolean; metric: number | null; attempts: number }[];
  readonly report: string | null;
  readonly failure: string | null;
  readonly ok: boolean;
  readonly agent_logs?: Record<string, string[]>;
  /** where the agents ran: their own network namespaces (one core each) or this machine's loopback */
  readonly kind: "namespaces" | "loopback";
  readonly wall_s: number;
}

export async function runHostLoss(o: HostLossOptions): Promise<HostLossReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  const hosts = (o.plan.hosts ?? []).map((h) => h.name);
  if (hosts.length < 2 || !o.plan.placement) throw new Error("chaos host-loss needs a scenario with two or more hosts: and a placement: section (scenarios/tiny-hosts.yaml)");
  const onHostLoss = o.onHostLoss ?? o.plan.placement.onHostLoss;
  const plan = { ...o.plan, placement: { ...o.plan.placement, onHostLoss } };
  const cluster = await startCluster({ hosts, ...(o.wrap ? { wrap: o.wrap } : {}), ...(o.namespaces ? { namespaces: true } : {}) });
  const nc = await connectNats(cluster.server, { name: "troupe-chaos-host-loss" });
  let k: { at: number; host?: string; pids?: number[]; actors?: string[]; step?: number; checkpoint?: number } = { at: 0 };
  try {
    const stop = () =>
      k.at > 0 && Date.now() - k.at > GIVE_UP_S * 1000 ? `the run did not end within ${GIVE_UP_S} s of the host's loss (the drill gave up on it)`
        : k.at === 0 && Date.now() - t0 > NO_KILL_GIVE_UP_S * 1000 ? `the run did not reach stage 1's training within ${NO_KILL_GIVE_UP_S} s (the drill gave up on it before killing anything)`
          : null;
    const run = await startCastRun({ plan, file: o.file ?? null, natsUrl: cluster.server.url, stop, ...(o.writeReport ? { writeReport: o.writeReport } : {}) });
    const record = await openRunRecord(nc, run.runId);
    const registry = await openHostRegistry(nc);
    const jobs = await openJobStates(nc, run.runId);
    const jobId = adapterJobId(1, 1);
    let step = 0;
    const codec = createCodec();
    const sub = nc.subscribe(progressSubject(run.runId, jobId), {
      callback: (err, m) => {
        if (err) return;
        try {
          const p = TrainProgress.body.parse(codec.decode(m.data).body, TrainProgress.kind);
          step = Math.max(step, p.points[p.points.length - 1]?.step ?? 0);
        } catch {
          // not a progress report we can read
        }
      },
    });
    let over = false;
    void run.done.finally(() => (over = true)).catch(() => undefined);
    const watch = (async () => {
      while (k.at === 0 && !over) {
        const s: JobState | undefined = (await jobs.get(jobId).catch(() => null))?.value;
        if (s?.state === "done" || s?.state === "failed") return; // over before a checkpoint was seen
        // mid-step after the stage's first durable checkpoint (its progress reports say how far)
        if (s?.state === "running" && s.checkpoint && s.checkpoint.step > 0 && s.checkpoint.step < s.steps && step > s.checkpoint.step) {
          const cast = await record.get<CastRecord>(RUN_KEYS.cast);
          const host = cast?.placed.find((p) => p.role === "trainer")?.host;
          const agent = host ? cluster.agents.get(host) : undefined;
          const hosted = host ? (await registry.get(host))?.record.runs.find((r) => r.run === run.runId) : undefined;
          if (host && agent && hosted) {
            const pids = hosted.actors.flatMap((a) => (a.pid ? [a.pid] : []));
            for (const pid of pids) process.kill(pid, "SIGKILL");
            agent.kill("SIGKILL");
            k = { at: Date.now(), host, pids: [agent.pid, ...pids], actors: hosted.actors.map((a) => `${a.role}/${a.id}`), step, checkpoint: s.checkpoint.step };
            log.info({ host, pids: k.pids, step, checkpoint: s.checkpoint.step }, "killed a host's agent and its actors (kill -9)");
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const result = await run.done.finally(() => sub.unsubscribe());
    await watch;
    const cast = await record.get<CastRecord>(RUN_KEYS.cast);
    const dead = k.at > 0 ? cast?.events.find((e) => e.kind === "host_dead" && e.host === k.host && e.at >= k.at) : undefined;
    const summary = result.summary;
    const replaced = k.at > 0 && !!cast?.events.some((e) => e.kind === "replaced" && e.at >= k.at);
    const stopped = summary?.stopped ? { kind: summary.stopped.kind, reason: summary.stopped.reason } : null;
    const outcome: HostLossOutcome =
      summary?.outcome === "done" && replaced ? "continued"
        : summary?.outcome === "stopped" && stopped?.kind === "host_lost" && result.report !== null ? "stopped-with-report"
          : "failed";
    const resumedFrom = await resumedStepsInReport(result.report?.json ?? null, 1, o.readReport);
    const hung = result.summary === null && (result.failure ?? "").includes("gave up");
    const detectedMs = dead ? dead.at - k.at : null;
    const ok = judgeHostLoss({ detectedMs, boundMs: o.boundMs ?? DETECT_BOUND_MS, hung, outcome, resumedFrom, trainerAfter: cast?.placed.find((p) => p.role === "trainer")?.host ?? null, killedHost: k.host ?? null });
    const bound = o.boundMs ?? DETECT_BOUND_MS;
    return {
      run_id: run.runId,
      hosts,
      on_host_loss: onHostLoss,
      dead_after_ms: plan.placement.deadAfterMs,
      killed_host: k.host ?? null,
      killed_pids: k.pids ?? [],
      killed_actors: k.actors ?? [],
      killed_at_step: k.step ?? null,
      checkpoint_step: k.checkpoint ?? null,
      detected_ms: detectedMs,
      bound_ms: bound,
      hung,
      outcome,
      placed_after: (cast?.placed ?? []).map((p) => `${p.role}/${p.id}@${p.host}`),
      resumed_from: resumedFrom,
      run_outcome: summary?.outcome ?? result.failure ?? "failed",
      stopped,
      stages: (result.lastSummary?.stages ?? []).filter((s) => plan.curriculum.stages.some((x) => x.stage === s.stage)).map((s) => ({ stage: s.stage, passed: s.passed, metric: s.metric, attempts: s.attempts })),
      report: result.report?.json ?? null,
      failure: result.failure,
      ok,
      // what the agents (and the actors they ran) last said, when something went wrong
      ...(ok ? {} : { agent_logs: Object.fromEntries([...cluster.agents].map(([h, a]) => [h, a.log().split("\n").slice(-30)])) }),
      kind: cluster.kind,
      wall_s: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await cluster.stop();
  }
}

/**
 * The drill's verdict (pure, so a test shows it failing): the loss detected within the bound, the
 * run not hung, and either continued — finished on another host than the killed one, the trainer
 * resumed from a checkpoint past step 0 — or stopped with a report.
 */
export function judgeHostLoss(r: {
  detectedMs: number | null;
  boundMs: number;
  hung: boolean;
  outcome: HostLossOutcome;
  resumedFrom: readonly number[];
  trainerAfter: string | null;
  killedHost: string | null;
}): boolean {
  if (r.killedHost === null || r.detectedMs === null || r.detectedMs > r.boundMs || r.hung) return false;
  if (r.outcome === "continued") return r.trainerAfter !== null && r.trainerAfter !== r.killedHost && r.resumedFrom.length > 0 && r.resumedFrom.every((n) => n > 0);
  return r.outcome === "stopped-with-report";
}
