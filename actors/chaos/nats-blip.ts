// `troupe chaos nats-blip`: real curriculum runs (scenarios/tiny.yaml by default) during which
// the nats-server is killed -9 and started again on the same store, once per run, at one of
// these points of stage 1 (the first two heard on the trainer's progress reports, which come
// every 250 ms and at the last step; the third on the director's snapshots, seen by the owner
// every 250 ms):
//   mid-step   training is half done: a trainer step, progress reports and a snapshot save
//              are in flight
//   last-step  training is within 25 steps of its end: the final checkpoint, the job's `done`
//              and the director's move to the gate happen around the outage (#16 item 1)
//   save       the director has just stored stage 1's start (the first stage-1 snapshot the
//              owner sees): its saves of the next transitions, the job's submission and the
//              trainer's first job-state writes are in flight
// for each outage length. The promises checked per run: it ends `done` with its gates decided,
// no job was cancelled or failed, every done job's final checkpoint is at its last step, the
// stage's loss curve has every step, and the run moved on (a new snapshot stored, or its end)
// within the outage plus 10 s of the kill.
// One server serves every run (the base is pretrained once and found in the cache after).
import { type Logger, type NatsServerHandle, componentLogger, connectNats, deleteRunStreams, pause, startNatsServer } from "../../hosts/mod.js";
import type { PersistedDirectorSnapshot, SnapshotStore } from "../director/mod.js";
import { phaseOf } from "../director/mod.js";
import { type CastRunOptions, TrainProgress, adapterJobId, createKvSnapshotStore, progressSubject, startCastRun } from "../cast/mod.js";
import { createCodec } from "../../protocol/mod.js";
import { type ReportReader, auditJobs, gatesDecided, missingCurveSteps } from "./audit.js";

export const BLIP_POINTS = ["mid-step", "last-step", "save"] as const;
export type BlipPoint = (typeof BLIP_POINTS)[number];

/** The acceptance bound: a run moves on within the outage plus this long. */
export const STALL_MARGIN_S = 10;
/** A run that has not moved this long after a blip is given up (so the drill ends). */
const GIVE_UP_MARGIN_S = 90;

export interface NatsBlipOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  /** The report layer's writer and reader (passed from above: the report layer sits over actors/). */
  readonly writeReport?: CastRunOptions["writeReport"];
  readonly readReport?: ReportReader;
  readonly points?: readonly BlipPoint[];
  /** outage lengths in seconds (default 0.4 and 4) */
  readonly outagesS?: readonly number[];
  readonly log?: Logger;
}

export interface BlipRun {
  readonly run_id: string;
  readonly point: BlipPoint;
  readonly outage_s: number;
  /** where the run was when the server was killed (null: the point never came) */
  readonly killed_in: string | null;
  readonly killed_at_step: number | null;
  /** kill → a new snapshot stored (or the run's end), in seconds */
  readonly stall_s: number | null;
  readonly outcome: string;
  readonly gates_decided: boolean;
  readonly stages: readonly { stage: number; passed: boolean; metric: number | null; attempts: number }[];
  readonly cancelled_jobs: number;
  readonly stale_final: number;
  readonly failed_jobs: number;
  /** stage-1 steps missing from the report's loss curve (null: no report) */
  readonly curve_missing_steps: number | null;
  readonly refused_cancels: number;
  readonly director_restarts: number;
  readonly trainer_restarts: number;
  readonly jobs: readonly { job: string; state: string; steps: number; final: number | null; deliveries: number }[];
  readonly wall_s: number;
}

export interface NatsBlipReport {
  /** blips performed (one per run whose point came) */
  readonly outages: number;
  readonly runs: number;
  readonly runs_done: number;
  readonly cancelled_jobs: number;
  readonly stale_final: number;
  /** jobs recorded failed: an outage is never the job's fault */
  readonly failed_jobs: number;
  readonly max_stall_s: number | null;
  /** how long each outage may stall a run: its length plus this */
  readonly stall_margin_s: number;
  /** every run done with gates decided, nothing cancelled, no stale final, every stall in bounds */
  readonly ok: boolean;
  readonly by_run: readonly BlipRun[];
  readonly wall_s: number;
}

const stateName = (v: unknown): string => JSON.stringify(v).replace(/[{}"]/g, "").replace(":", ".");

/** The `save` point: the first stored snapshot of stage 1. */
function atStageStart(s: PersistedDirectorSnapshot, stage: number): boolean {
  return phaseOf(s.value)?.stage === stage;
}

/** The training points, on the trainer's own progress reports (every 250 ms, and at the last step). */
function atStep(point: BlipPoint, step: number, steps: number): boolean {
  if (point === "mid-step") return step >= Math.ceil(steps / 2);
  if (point === "last-step") return step >= steps - 25;
  return false;
}

async function oneRun(server: NatsServerHandle, o: NatsBlipOptions, point: BlipPoint, outageS: number, log: Logger): Promise<BlipRun> {
  const t0 = Date.now();
  const stage = 1;
  const blip = { at: 0, back: 0, baseline: 0, state: "", step: null as number | null, movedAt: null as number | null };
  let lastState = "";
  let blipping: Promise<void> = Promise.resolve();
  let snapshots: SnapshotStore | null = null;
  const trigger = (step: number | null) => {
    if (blip.at !== 0) return;
    Object.assign(blip, { at: Date.now(), state: lastState, step });
    log.info({ point, outage_s: outageS, state: blip.state, step }, "killing nats-server");
    blipping = (async () => {
      await server.kill();
      await pause(outageS * 1000);
      await server.restart();
      blip.back = Date.now();
      // "moved on" = a snapshot stored after this one (conservative: this read may already
      // see a save made after the restart, and then the next one counts)
      blip.baseline = (await snapshots?.load(runId).catch(() => null))?.revision ?? 0;
      log.info({ down_ms: blip.back - blip.at }, "nats-server is back");
    })();
  };
  let runId = "";
  const onSnapshot = (s: PersistedDirectorSnapshot, revision: number) => {
    lastState = stateName(s.value);
    if (point === "save" && atStageStart(s, stage)) trigger(null);
    else if (blip.movedAt === null && blip.baseline > 0 && revision > blip.baseline) blip.movedAt = Date.now();
  };
  const stop = () =>
    blip.at > 0 && blip.movedAt === null && Date.now() - blip.at > (outageS + GIVE_UP_MARGIN_S) * 1000
      ? `the run did not move for ${GIVE_UP_MARGIN_S} s after the outage (the drill gave up on it)`
      : null;
  const nc = await connectNats(server, { name: "troupe-chaos-blip" });
  try {
    const run = await startCastRun({ plan: o.plan, file: o.file ?? null, natsUrl: server.url, onSnapshot, stop, ...(o.writeReport ? { writeReport: o.writeReport } : {}) });
    runId = run.runId;
    snapshots = await createKvSnapshotStore(nc, runId);
    const codec = createCodec();
    const sub = nc.subscribe(progressSubject(runId, adapterJobId(stage, 1)), {
      callback: (err, m) => {
        if (err || blip.at !== 0) return;
        try {
          const p = TrainProgress.body.parse(codec.decode(m.data).body, TrainProgress.kind);
          const last = p.points[p.points.length - 1];
          if (last && atStep(point, last.step, p.steps)) trigger(last.step);
        } catch {
          // not a progress report we can read: no trigger
        }
      },
    });
    const result = await run.done.finally(() => sub.unsubscribe());
    await blipping;
    const endedAt = Date.now();
    const audit = await auditJobs(nc, run.runId);
    const listed = run.spec.curriculum.stages.map((s) => s.stage);
    const summary = result.summary;
    const moved = blip.movedAt ?? (blip.at > 0 && summary ? endedAt : null);
    await deleteRunStreams(nc, run.runId);
    return {
      run_id: run.runId,
      point,
      outage_s: outageS,
      killed_in: blip.at > 0 ? blip.state : null,
      killed_at_step: blip.step,
      stall_s: moved !== null ? Math.round((moved - blip.at) / 100) / 10 : null,
      outcome: summary?.outcome ?? result.failure ?? "failed",
      gates_decided: gatesDecided(summary, listed),
      stages: (result.lastSummary?.stages ?? []).filter((s) => listed.includes(s.stage)).map((s) => ({ stage: s.stage, passed: s.passed, metric: s.metric, attempts: s.attempts })),
      cancelled_jobs: audit.cancelled_jobs,
      stale_final: audit.stale_final,
      failed_jobs: audit.failed_jobs,
      curve_missing_steps: await missingCurveSteps(result.report?.json ?? null, stage, o.readReport),
      refused_cancels: audit.refused_cancels,
      director_restarts: result.cast.find((c) => c.role === "director")?.restarts ?? 0,
      trainer_restarts: result.cast.find((c) => c.role === "trainer")?.restarts ?? 0,
      jobs: audit.by_job,
      wall_s: Math.round((endedAt - t0) / 100) / 10,
    };
  } finally {
    await nc.close();
  }
}

export async function runNatsBlip(o: NatsBlipOptions): Promise<NatsBlipReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  const points = o.points ?? BLIP_POINTS;
  const outages = o.outagesS ?? [0.4, 4];
  const server = await startNatsServer();
  const runs: BlipRun[] = [];
  try {
    for (const point of points) for (const outage of outages) runs.push(await oneRun(server, o, point, outage, log));
  } finally {
    await server.stop();
  }
  return judgeBlips(runs, Date.now() - t0);
}

/** The drill's verdict over its runs (pure: the tests show each counter moving the other way). */
export function judgeBlips(runs: readonly BlipRun[], wallMs: number): NatsBlipReport {
  const stalls = runs.map((r) => r.stall_s).filter((s): s is number => s !== null);
  const inBounds = (r: BlipRun) => r.stall_s !== null && r.stall_s <= r.outage_s + STALL_MARGIN_S;
  return {
    outages: runs.filter((r) => r.killed_in !== null).length,
    runs: runs.length,
    runs_done: runs.filter((r) => r.outcome === "done" && r.gates_decided).length,
    cancelled_jobs: runs.reduce((n, r) => n + r.cancelled_jobs, 0),
    stale_final: runs.reduce((n, r) => n + r.stale_final, 0),
    failed_jobs: runs.reduce((n, r) => n + r.failed_jobs, 0),
    max_stall_s: stalls.length ? Math.max(...stalls) : null,
    stall_margin_s: STALL_MARGIN_S,
    ok: runs.every((r) => r.killed_in !== null && r.outcome === "done" && r.gates_decided && r.cancelled_jobs === 0 && r.stale_final === 0 && r.failed_jobs === 0 && r.curve_missing_steps === 0 && inBounds(r)),
    by_run: runs,
    wall_s: Math.round(wallMs / 100) / 10,
  };
}
