// `troupe chaos kill-director | kill-trainer`: a real curriculum run (a small scenario) with
// one cast member killed -9 while a stage trains, and the promises checked:
//   director  its supervisor restarts it; it resumes from its snapshot in KV at the same
//             stage (the training it had asked for goes on), and the run finishes
//   trainer   after its first durable checkpoint of the stage; the restarted trainer gets the
//             job back from the work queue, resumes from that checkpoint (step > 0), and the
//             stage completes; where it resumed, as the trainer recorded it, must be where the
//             progress stream shows its new delivery starting
import { deleteRunStreams, type Logger, componentLogger } from "../../hosts/mod.js";
import { type PersistedDirectorSnapshot, type StageId, phaseOf } from "../director/mod.js";
import { type CastRun, type CastRunOptions, type JobState, type ReportWriter, adapterJobId, openJobStates, startCastRun } from "../cast/mod.js";
import type { SupervisionEventBody } from "../../protocol/mod.js";
import { followProgressTrail } from "./progress-trail.js";

export interface KillCastOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  readonly natsUrl?: string;
  /** The stage whose training is interrupted (default 1). */
  readonly stage?: StageId;
  readonly log?: Logger;
  /** Writes the run's report (the report layer's writeRunReport, passed in by the CLI). */
  readonly writeReport?: ReportWriter;
}

interface StageRow {
  readonly stage: number;
  readonly passed: boolean;
  readonly metric: number | null;
  readonly threshold: number | null;
  readonly attempts: number;
}

export interface KillDirectorReport {
  readonly run_id: string;
  readonly killed_stage: number | null;
  readonly killed_state: string | null;
  readonly killed_at_step: number | null;
  readonly resumed_stage: number | null;
  readonly resumed_state: string | null;
  readonly restart_ms: number | null;
  readonly resumes: number;
  readonly outcome: string;
  readonly stages: readonly StageRow[];
  readonly report: string | null;
  readonly wall_s: number;
}

export interface KillTrainerReport {
  readonly run_id: string;
  readonly killed_stage: number | null;
  readonly killed_at_step: number | null;
  /** The checkpoint that was durable when the trainer died. */
  readonly checkpoint_step: number | null;
  /** Steps the restarted trainer resumed the job from, as its job state records them. */
  readonly resumed_from: readonly number[];
  /** The same read from the progress stream: each later delivery's first step − 1. */
  readonly resumed_from_stream: readonly number[];
  /** Whether the two agree. */
  readonly resumed_from_agrees: boolean;
  /** What each delivery of the job published to the progress stream. */
  readonly progress_deliveries: readonly { delivery: number; first: number; last: number; points: number }[];
  readonly trainer_restarts: number;
  readonly restart_ms: number | null;
  readonly outcome: string;
  readonly stages: readonly StageRow[];
  readonly report: string | null;
  readonly wall_s: number;
}

const stateName = (v: unknown): string => JSON.stringify(v).replace(/[{}"]/g, "").replace(":", ".");

function stageRows(summary: { stages: readonly StageRow[] } | null, listed: readonly number[]): StageRow[] {
  return (summary?.stages ?? [])
    .filter((s) => listed.includes(s.stage))
    .map((s) => ({ stage: s.stage, passed: s.passed, metric: s.metric, threshold: s.threshold, attempts: s.attempts }));
}

/** Where supervision events of the run's host arrive, as they happen. */
function startedEvents(run: CastRun, role: string): { at: number; body: SupervisionEventBody }[] {
  const seen: { at: number; body: SupervisionEventBody }[] = [];
  void (async () => {
    const { createCodec, supervisionWildcard } = await import("../../protocol/mod.js");
    const codec = createCodec();
    const sub = run.nc.subscribe(supervisionWildcard(run.runId));
    for await (const m of sub) {
      try {
        const body = codec.decode(m.data).body as SupervisionEventBody;
        if (body.role === role && body.event === "started") seen.push({ at: Date.now(), body });
      } catch {
        // not ours to judge here
      }
    }
  })();
  return seen;
}

export async function runKillDirector(o: KillCastOptions): Promise<KillDirectorReport> {
  const log = o.log ?? componentLogger("chaos");
  const stage = o.stage ?? 1;
  const t0 = Date.now();
  const seen: {
    killed: { stage: number; state: string; step: number | null; at: number; revision: number } | null;
    resumed: { stage: number; state: string; at: number } | null;
  } = { killed: null, resumed: null };
  let started: { at: number; body: SupervisionEventBody }[] = [];
  const onSnapshot = (s: PersistedDirectorSnapshot, revision: number, run: CastRun) => {
    const ctx = s.context;
    if (!seen.killed) {
      const p = phaseOf(s.value);
      // well into the training: a fifth of the attempt's steps done
      const progress = ctx.progress;
      if (p?.stage !== stage || p.phase !== "training" || !progress || progress.step < Math.max(1, Math.floor(progress.steps / 5))) return;
      const pid = run.supervisor.pidOf("director", "0");
      if (pid === undefined) return;
      process.kill(pid, "SIGKILL");
      seen.killed = { stage: ctx.stage, state: stateName(s.value), step: ctx.progress?.step ?? null, at: Date.now(), revision };
      log.info({ pid, state: seen.killed.state, step: seen.killed.step }, "killed the director");
    } else if (!seen.resumed && ctx.resumes.length > 0) {
      seen.resumed = { stage: ctx.stage, state: stateName(s.value), at: Date.now() };
    }
  };
  const run = await startCastRun({ plan: o.plan, file: o.file ?? null, ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}), ...(o.writeReport ? { writeReport: o.writeReport } : {}), onSnapshot: (s, r, h) => onSnapshot(s, r, h) });
  started = startedEvents(run, "director");
  const result = await run.done.finally(() => (o.natsUrl ? cleanup(o.natsUrl, run.runId) : undefined));
  const k = seen.killed;
  const r = seen.resumed;
  const back = k ? started.find((e) => e.at >= k.at) : undefined;
  return {
    run_id: run.runId,
    killed_stage: k?.stage ?? null,
    killed_state: k?.state ?? null,
    killed_at_step: k?.step ?? null,
    resumed_stage: r?.stage ?? null,
    resumed_state: r?.state ?? null,
    restart_ms: k && back ? back.at - k.at : null,
    resumes: result.summary?.resumes ?? 0,
    outcome: result.summary?.outcome ?? result.failure ?? "failed",
    stages: stageRows(result.lastSummary, run.spec.curriculum.stages.map((s) => s.stage)),
    report: result.report?.json ?? null,
    wall_s: Math.round((Date.now() - t0) / 100) / 10,
  };
}

export async function runKillTrainer(o: KillCastOptions): Promise<KillTrainerReport> {
  const log = o.log ?? componentLogger("chaos");
  const stage = o.stage ?? 1;
  const t0 = Date.now();
  const seen: { killed: { step: number | null; checkpoint: number; at: number } | null } = { killed: null };
  let last: PersistedDirectorSnapshot | null = null;
  const run = await startCastRun({
    plan: o.plan,
    file: o.file ?? null,
    ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}),
    ...(o.writeReport ? { writeReport: o.writeReport } : {}),
    onSnapshot: (s) => (last = s),
  });
  const started = startedEvents(run, "trainer");
  const jobs = await openJobStates(run.nc, run.runId);
  const jobId = adapterJobId(stage, 1);
  const trail = await followProgressTrail(run.nc, run.runId, jobId);
  let over = false;
  void run.done.finally(() => (over = true)).catch(() => undefined);
  const watch = (async () => {
    while (!seen.killed && !over) {
      const s: JobState | undefined = (await jobs.get(jobId).catch(() => null))?.value;
      if (s?.state === "done" || s?.state === "failed") return; // finished before a checkpoint was seen
      if (s?.state === "running" && s.checkpoint && s.checkpoint.step > 0 && s.checkpoint.step < s.steps) {
        const pid = run.supervisor.pidOf("trainer", "0");
        if (pid !== undefined) {
          process.kill(pid, "SIGKILL");
          seen.killed = { step: s.step, checkpoint: s.checkpoint.step, at: Date.now() };
          log.info({ pid, checkpoint: s.checkpoint.step }, "killed the trainer");
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await run.done.finally(async () => {
    await trail.stop().catch(() => undefined);
    if (o.natsUrl) await cleanup(o.natsUrl, run.runId);
  });
  await watch;
  const k = seen.killed;
  const back = k ? started.find((e) => e.at >= k.at) : undefined;
  const resumedFrom = resumedSteps(last, stage);
  const fromStream = [...new Set(trail.resumedFrom())].sort((a, b) => a - b);
  return {
    run_id: run.runId,
    killed_stage: k ? stage : null,
    killed_at_step: k?.step ?? null,
    checkpoint_step: k?.checkpoint ?? null,
    resumed_from: resumedFrom,
    resumed_from_stream: fromStream,
    resumed_from_agrees: JSON.stringify(resumedFrom) === JSON.stringify(fromStream),
    progress_deliveries: trail.deliveries(),
    trainer_restarts: result.cast.find((c) => c.role === "trainer")?.restarts ?? 0,
    restart_ms: k && back ? back.at - k.at : null,
    outcome: result.summary?.outcome ?? result.failure ?? "failed",
    stages: stageRows(result.lastSummary, run.spec.curriculum.stages.map((s) => s.stage)),
    report: result.report?.json ?? null,
    wall_s: Math.round((Date.now() - t0) / 100) / 10,
  };
}

/** The resume steps the stage's evaluator details recorded (from the trainer's job state), in the last snapshot. */
export function resumedSteps(snapshot: PersistedDirectorSnapshot | null, stage: number): number[] {
  const s = snapshot?.context.records.find((x) => x.stage === stage);
  const steps = new Set<number>();
  for (const a of s?.attempts ?? []) {
    const t = (a.details as { training?: { resumed_from_steps?: number[] } } | null)?.training;
    for (const n of t?.resumed_from_steps ?? []) steps.add(n);
  }
  return [...steps].sort((a, b) => a - b);
}

async function cleanup(url: string, runId: string): Promise<void> {
  const { connectNats } = await import("../../hosts/mod.js");
  const nc = await connectNats(url, { name: "troupe-chaos-cleanup" });
  try {
    await deleteRunStreams(nc, runId);
  } finally {
    await nc.close();
  }
}
