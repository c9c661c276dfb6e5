// `troupe chaos director-duel`: a real curriculum run (scenarios/tiny.yaml by default) whose
// director gets a rival while stage 1 trains — a second director, under a second supervisor,
// resuming the same run (what a `troupe run --resume` from another terminal would start).
// The promises checked: exactly one director owns the run at its end (the newer one takes the
// lease, the older one is fenced out, stops without being restarted and writes nothing more),
// nothing is cancelled, and the run ends `done`.
// Evidence is read from KV as it happens: every revision of the director's snapshot with its
// writer (the envelope's sender) and every epoch of the director lease.
import {
  type Logger, LeaseRecordSchema, type LeaseRecord, type NatsConnection, type WatchedEntry,
  componentLogger, connectNats, deleteRunStreams, openRunState, startNatsServer,
} from "../../hosts/mod.js";
import { type SupervisionEventBody, createCodec, supervisionWildcard, t } from "../../protocol/mod.js";
import type { PersistedDirectorSnapshot } from "../director/mod.js";
import { phaseOf } from "../director/mod.js";
import { type Supervisor, startSupervisor } from "../runtime/mod.js";
import { BUCKETS, type CastRun, type CastRunOptions, type CastRunResult, DIRECTOR_LEASE, startCastRun } from "../cast/mod.js";
import { type JobAudit, auditJobs } from "./audit.js";

export interface DirectorDuelOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  readonly natsUrl?: string;
  /** The report layer's writer (passed from above: the report layer sits over actors/). */
  readonly writeReport?: CastRunOptions["writeReport"];
  readonly log?: Logger;
}

export interface DirectorDuelReport {
  readonly run_id: string;
  /** directors that acted as the run's owner after the rival arrived (wrote its snapshot, or hold the lease at the end) */
  readonly owners_at_end: number;
  readonly cancelled_jobs: number;
  readonly outcome: string;
  readonly rival_started_in: string | null;
  readonly rival_started_at_step: number | null;
  /** rival spawned → it holds the lease */
  readonly takeover_ms: number | null;
  readonly lease_epochs: readonly { readonly epoch: number; readonly holder: string }[];
  readonly snapshot_writers_after_takeover: readonly string[];
  /** how each director process ended: role/id@host → exit code or signal, restarts */
  readonly directors: readonly { readonly director: string; readonly exits: readonly string[]; readonly restarts: number }[];
  readonly refused_cancels: number;
  readonly stages: readonly { stage: number; passed: boolean; attempts: number }[];
  readonly report: string | null;
  readonly wall_s: number;
}

const stateName = (v: unknown): string => JSON.stringify(v).replace(/[{}"]/g, "").replace(":", ".");

/** Supervision events of the run's directors, from every supervisor, as they happen. */
function directorEvents(nc: NatsConnection, runId: string): SupervisionEventBody[] {
  const seen: SupervisionEventBody[] = [];
  const codec = createCodec();
  nc.subscribe(supervisionWildcard(runId), {
    callback: (err, m) => {
      if (err) return;
      try {
        const body = codec.decode(m.data).body as SupervisionEventBody;
        if (body.role === "director") seen.push(body);
      } catch {
        // not ours to judge here
      }
    },
  });
  return seen;
}

interface Observed {
  readonly rivalAt: number;
  readonly started: { readonly state: string | null; readonly step: number | null };
  readonly leaseEpochs: readonly (LeaseRecord & { at: number })[];
  readonly writes: readonly (WatchedEntry<string> & { at: number })[];
  readonly events: readonly SupervisionEventBody[];
}

/** The drill's verdict from what was observed while the run went. */
export function judgeDuel(run: CastRun, result: CastRunResult, audit: JobAudit, seen: Observed, t0: number): DirectorDuelReport {
  // the rival's epoch: the first one a director/1 acquired after it was started
  const takeover = seen.leaseEpochs.find((l) => seen.rivalAt > 0 && l.at >= seen.rivalAt && l.holder.endsWith(".director.1"));
  // From the rival's first snapshot write on (its take-over write, in the bucket's own revision
  // order), nobody else may write: a save the displaced director had checked before the lease
  // moved may still land between the lease and that write — the take-over write is what makes
  // every such save stale, and it resumes from what landed. Without a rival write, from the lease on.
  const rivalFirst = takeover ? seen.writes.filter((w) => w.value !== null && w.from === takeover.holder && w.at >= seen.rivalAt).sort((a, b) => a.revision - b.revision)[0] : undefined;
  const after = !takeover ? [] : rivalFirst
    ? seen.writes.filter((w) => w.revision >= rivalFirst.revision && w.value !== null)
    : seen.writes.filter((w) => w.at >= takeover.at && w.value !== null);
  const writers = [...new Set(after.map((w) => w.from))];
  const holderAtEnd = seen.leaseEpochs[seen.leaseEpochs.length - 1]?.holder;
  const owners = new Set([...writers, ...(holderAtEnd ? [holderAtEnd] : [])]);
  const byDirector = new Map<string, { exits: string[]; restarts: number }>();
  for (const e of seen.events) {
    const key = `director/${e.id}@${e.host}`;
    const d = byDirector.get(key) ?? { exits: [], restarts: 0 };
    if (e.event === "exited") d.exits.push(e.signal ? `signal ${e.signal}` : `code ${e.code}`);
    if (e.event === "restarting") d.restarts++;
    byDirector.set(key, d);
  }
  const listed = run.spec.curriculum.stages.map((s) => s.stage);
  return {
    run_id: run.runId,
    owners_at_end: takeover ? owners.size : 0,
    cancelled_jobs: audit.cancelled_jobs,
    outcome: result.summary?.outcome ?? result.failure ?? "failed",
    rival_started_in: seen.started.state,
    rival_started_at_step: seen.started.step,
    takeover_ms: takeover ? takeover.at - seen.rivalAt : null,
    lease_epochs: seen.leaseEpochs.map((l) => ({ epoch: l.epoch, holder: l.holder })),
    snapshot_writers_after_takeover: writers,
    directors: [...byDirector].map(([director, d]) => ({ director, ...d })),
    refused_cancels: audit.refused_cancels,
    stages: (result.lastSummary?.stages ?? []).filter((s) => listed.includes(s.stage)).map((s) => ({ stage: s.stage, passed: s.passed, attempts: s.attempts })),
    report: result.report?.json ?? null,
    wall_s: Math.round((Date.now() - t0) / 100) / 10,
  };
}

export async function runDirectorDuel(o: DirectorDuelOptions): Promise<DirectorDuelReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  const stage = 1;
  // a server that outlives the run: the audit reads the run's jobs after it ended
  const server = o.natsUrl ? null : await startNatsServer();
  const url = o.natsUrl ?? server!.url;
  const nc = await connectNats(url, { name: "troupe-chaos-duel" });
  let rival: Supervisor | null = null;
  const seen = {
    rivalAt: 0,
    started: { state: null as string | null, step: null as number | null },
    leaseEpochs: [] as (LeaseRecord & { at: number })[],
    writes: [] as (WatchedEntry<string> & { at: number })[],
    events: [] as SupervisionEventBody[],
  };
  const onSnapshot = (s: PersistedDirectorSnapshot, _revision: number, run: CastRun) => {
    if (rival) return;
    const p = phaseOf(s.value);
    const progress = s.context.progress;
    if (p?.stage !== stage || p.phase !== "training" || !progress || progress.step < Math.max(1, Math.floor(progress.steps / 5))) return;
    seen.started = { state: stateName(s.value), step: progress.step };
    seen.rivalAt = Date.now();
    log.info(seen.started, "starting a rival director");
    rival = startSupervisor({ run: run.runId, natsUrl: url, nc, host: "rival", children: [{ role: "director", id: "1", restart: "transient" }] });
  };
  const stops: (() => void)[] = [];
  try {
    const run = await startCastRun({ plan: o.plan, file: o.file ?? null, natsUrl: url, onSnapshot, ...(o.writeReport ? { writeReport: o.writeReport } : {}) });
    seen.events = directorEvents(nc, run.runId);
    const snapshots = await openRunState(nc, { run: run.runId, bucket: BUCKETS.director, schema: t.string({ maxLength: 8 << 20 }), history: 3 });
    stops.push(await snapshots.watch(run.runId, (e) => void seen.writes.push({ ...e, at: Date.now() })));
    const leases = await openRunState(nc, { run: run.runId, bucket: BUCKETS.leases, schema: LeaseRecordSchema, history: 8 });
    stops.push(await leases.watch(DIRECTOR_LEASE, (e) => {
      if (e.value && !seen.leaseEpochs.some((l) => l.epoch === e.value!.epoch)) seen.leaseEpochs.push({ ...e.value, at: Date.now() });
    }));
    let result: CastRunResult;
    try {
      result = await run.done;
    } finally {
      await (rival as Supervisor | null)?.stop();
    }
    const audit = await auditJobs(nc, run.runId);
    if (o.natsUrl) await deleteRunStreams(nc, run.runId).catch(() => undefined);
    return judgeDuel(run, result, audit, seen, t0);
  } finally {
    for (const stop of stops) stop();
    await nc.close();
    await server?.stop();
  }
}
