// Running a scenario: the owner's side of `troupe run`. It starts (or joins) NATS, writes the
// run's spec to KV, starts a host supervisor that casts every role the listed stages need —
// the director included — each as its own process, watches the director's snapshot in KV to
// drive the progress view, has runs/<run>/report.json and report.html written at every stage's end
// and at the end (by the report layer above, which the caller passes in as `writeReport`), and resolves with the run summary. It never waits silently: if its director
// stops for good without a summary (and no other director holds the run's lease and renews
// it), the run ends at once with a report that says so.
// A scenario that declares hosts runs only the director here: the director places the other
// actors on the hosts' agents (placement/), and the report's cast says where each one ran.
import { randomBytes } from "node:crypto";
import { availableParallelism, hostname } from "node:os";
import { type HostRecord, type Lease, type Logger, type NatsConnection, type NatsSession, componentLogger, openHostRegistry, openNats } from "../../../hosts/mod.js";
import { checkToken } from "../../../protocol/mod.js";
import { type PersistedDirectorSnapshot, type ReportEvent, type RunSummary, type SnapshotStore, summarizeRun } from "../../director/mod.js";
import { type ChildSpec, type Supervisor, startSupervisor } from "../../runtime/mod.js";
import { CastRunError } from "../errors.js";
import { openDirectorLease, openRunRecord, type RunRecord } from "../records.js";
import { ensureProgressStream } from "../progress.js";
import { createKvSnapshotStore } from "../snapshots.js";
import type { PoolRoleConfig, PoolRoleSpec } from "../pools.js";
import { AVAILABLE_STAGES, type RunPlanLike, type RunSpec, runSpecFrom } from "../spec.js";
import { type CastRecord, type PlacementPlanLike, castNotes as castRecordNotes, placementSpecFrom, releasePlacements } from "../placement/mod.js";
import { RUN_KEYS } from "../records.js";
import { type RolePools, startRolePools } from "./pools.js";
import type { CastMember, ReportPaths, ReportWriter } from "./report-input.js";
import { exportRunArtifacts, type RunArtifacts } from "../artifacts.js";
import { watchRun } from "./watch.js";
import "../../roles.js";

/** Every role of a cast; rolesFor() picks those the listed stages need. */
export const CAST_ROLES = ["director", "trainer", "teacher", "evaluator", "oracle", "transfer_encoder", "transfer_decoder"] as const;
export type CastRole = (typeof CAST_ROLES)[number];

/** The roles a curriculum needs: the oracle for stage 2's labels, the transfer pair for stage 5's packets. */
export function rolesFor(stages: readonly number[]): CastRole[] {
  return CAST_ROLES.filter((r) => (r === "oracle" ? stages.includes(2) : r === "transfer_encoder" || r === "transfer_decoder" ? stages.includes(5) : true));
}

export interface CastRunOptions {
  readonly plan: RunPlanLike & PlacementPlanLike & { readonly cast?: Partial<Record<string, { readonly count: number; readonly cores?: number | null; readonly pool?: PoolRoleSpec | null }>> };
  /** The scenario file as the user typed it (for the report). */
  readonly file?: string | null;
  readonly natsUrl?: string;
  readonly runId?: string;
  /** Continue a run whose state is on the server (needs natsUrl and runId). */
  readonly resume?: boolean;
  /** Progress view events (the CLI draws them). */
  readonly onEvent?: (e: ReportEvent) => void;
  /** Every new director snapshot seen in KV (chaos tests act on them). */
  readonly onSnapshot?: (s: PersistedDirectorSnapshot, revision: number, run: CastRun) => void;
  /** Kernel threads of the trainer and teacher (default: what their kernels pick: TROUPE_THREADS, else the CPUs the process may use) and the evaluator (default 1). */
  readonly threads?: { readonly trainer?: number; readonly teacher?: number; readonly evaluator?: number };
  /** The oracles' drill knobs: hold each stored batch (or each process's first holdBatches) this long before acknowledging it; store without dedup. */
  readonly oracle?: { readonly holdMs?: number; readonly holdBatches?: number; readonly dedup?: boolean };
  readonly log?: Logger;
  /** Writes runs/<run>/report.json and report.html (the report layer's writeRunReport). */
  readonly writeReport?: ReportWriter;
  /** Polled while the run goes: a reason to stop waiting for it (chaos drills bound their runs). */
  readonly stop?: () => string | null;
  /** How long a director that took the run over may go without renewing its lease (default 15 s). */
  readonly leaseStaleMs?: number;
}

/**
 * How long a director elsewhere (one that took the run over) may go without renewing its lease
 * before the owner stops waiting for it; directors renew every 2 s.
 */
const LEASE_STALE_MS = 15_000;

export interface CastRunResult {
  readonly runId: string;
  /** The director's summary of the finished run; null when it never finished. */
  readonly summary: RunSummary | null;
  /** The summary of the last stored snapshot (the same as `summary` for a finished run). */
  readonly lastSummary: RunSummary | null;
  /** Why there is no summary (the cast escalated, the deadline passed). */
  readonly failure: string | null;
  readonly report: ReportPaths | null;
  /** The models the run kept under runs/<run>/ (null when none could be copied; the log says why). */
  readonly artifacts: RunArtifacts | null;
  /** Every listed stage passed and the run is done. */
  readonly ok: boolean;
  readonly cast: readonly CastMember[];
  readonly wallS: number;
}

export interface CastRun {
  readonly runId: string;
  readonly spec: RunSpec;
  readonly supervisor: Supervisor;
  readonly nc: NatsConnection;
  readonly url: string;
  readonly done: Promise<CastRunResult>;
}

export function newRunId(name: string): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${name}-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${randomBytes(2).toString("hex")}`;
}

function children(plan: CastRunOptions["plan"], threads: CastRunOptions["threads"], pools: Partial<Record<string, PoolRoleConfig>>, oracle: CastRunOptions["oracle"]): ChildSpec[] {
  const count = (role: string) => (role === "director" ? 1 : Math.max(1, plan.cast?.[role]?.count ?? 1));
  // on hosts, an actor's kernel threads are its role's cores; else (and here) the child's
  // kernels pick: TROUPE_THREADS, else the CPUs the process may use (CPU set, cgroup quota)
  const here = (role: "trainer" | "teacher") => (plan.hostsDeclared ? (plan.cast?.[role]?.cores ?? undefined) : undefined);
  const t = (v: number | undefined) => (v === undefined ? {} : { threads: v });
  const config: Record<string, unknown> = {
    // absent: the child's kernels pick (TROUPE_THREADS, else its CPU set and cgroup quota)
    trainer: t(threads?.trainer ?? here("trainer")),
    teacher: { ...t(threads?.teacher ?? here("teacher")), ...(pools.teacher ? { pool: pools.teacher } : {}) },
    evaluator: { threads: threads?.evaluator ?? plan.cast?.evaluator?.cores ?? 1, ...(pools.evaluator ? { pool: pools.evaluator } : {}) },
    // several oracles share the queue, one core each
    oracle: { threads: 1, ...(oracle?.holdMs ? { holdMs: oracle.holdMs } : {}), ...(oracle?.holdBatches ? { holdBatches: oracle.holdBatches } : {}), ...(oracle?.dedup === false ? { dedup: false } : {}) },
    transfer_encoder: { threads: 1 },
    transfer_decoder: { threads: 1 },
  };
  // one trainer takes the stage jobs (more would only wait on the queue) — or, with Thunder-Train,
  // one trainer per rank, rank 0 taking the jobs and the others joining it: on this machine the
  // cores are shared between them; on hosts the director places the ranks (spread: one per
  // host) and each has its role's cores
  const ranks = plan.thunder?.ranks ?? 1;
  const n = (role: string) => (role === "trainer" ? ranks : count(role));
  const trainerThreads = plan.hostsDeclared ? (threads?.trainer ?? here("trainer") ?? 1) : Math.max(1, Math.floor((threads?.trainer ?? availableParallelism()) / ranks));
  const configOf = (role: string, i: number) =>
    role === "trainer" && ranks > 1 ? { threads: trainerThreads, dp: { rank: i, world: ranks } } : config[role];
  // the head stages' measurements (the evaluator's gates, the transfer pair's fidelity) run
  // synchronously for minutes on a loaded machine: no heartbeat meanwhile is not a hang
  const watchdog: Record<string, number> = { evaluator: 20 * 60_000, transfer_encoder: 20 * 60_000, transfer_decoder: 20 * 60_000 };
  return rolesFor(plan.curriculum.stages.map((s) => s.stage)).flatMap((role) =>
    Array.from({ length: n(role) }, (_, i) => ({
      role,
      id: String(i),
      ...(configOf(role, i) ? { config: configOf(role, i) } : {}),
      // the director exits 0 when the run is over: not restarted then
      restart: role === "director" ? ("transient" as const) : ("permanent" as const),
      ...(watchdog[role] ? { watchdogMs: watchdog[role] } : {}),
    })),
  );
}

function castNotes(plan: CastRunOptions["plan"]): string[] {
  const notes: string[] = [];
  const listed = plan.curriculum.stages.map((s) => s.stage);
  const uncast = CAST_ROLES.filter((r) => !rolesFor(listed).includes(r));
  if (uncast.length > 0) notes.push(`Not cast: ${uncast.join(", ")} — the listed stages (${listed.join(", ")}) do not need them (the oracle labels stage 2, the transfer pair serves stage 5).`);
  if (plan.thunder) {
    notes.push(plan.hostsDeclared
      ? `Thunder-Train: ${plan.thunder.ranks} trainer ranks train ${plan.thunder.jobs.join(" and ")} jobs data-parallel, placed on the hosts like every other actor (${plan.placement?.strategy ?? "spread"}); their ring runs over links between the hosts' link addresses.`
      : `Thunder-Train: ${plan.thunder.ranks} trainer ranks train ${plan.thunder.jobs.join(" and ")} jobs data-parallel, all on this machine (no hosts: section), over links on 127.0.0.1.`);
  }
  else if ((plan.cast?.trainer?.count ?? 1) > 1) notes.push("One trainer was cast: stage jobs run one at a time.");
  return notes;
}

async function prepareRecord(nc: NatsConnection, runId: string, o: CastRunOptions, all: readonly ChildSpec[]): Promise<{ record: RunRecord; spec: RunSpec }> {
  const record = await openRunRecord(nc, runId);
  const existing = await record.get<RunSpec>("spec");
  if (o.resume) {
    if (!existing) throw new CastRunError(`run ${runId} has no state on this server; nothing to resume (check --nats and --run-id)`);
    return { record, spec: await record.spec() };
  }
  if (existing) throw new CastRunError(`run ${runId} already exists on this server; use --resume to continue it, or another --run-id`);
  const spec = runSpecFrom(o.plan, runId, AVAILABLE_STAGES, placementSpecFrom(o.plan, all));
  await record.put("spec", spec);
  return { record, spec };
}

export async function startCastRun(o: CastRunOptions): Promise<CastRun> {
  if (o.resume && (!o.natsUrl || !o.runId)) {
    throw new CastRunError("--resume continues a run kept on a NATS server: give --nats URL and --run-id ID (an embedded server's store is gone with it)");
  }
  if (o.plan.hostsDeclared && !o.natsUrl) {
    throw new CastRunError("this scenario declares hosts: give --nats URL, the NATS server every host's agent (troupe host --nats URL --name NAME) is connected to");
  }
  const log = o.log ?? componentLogger("run");
  const t0 = Date.now();
  const runId = checkToken("run", o.runId ?? newRunId(o.plan.run.name));
  const session: NatsSession = await openNats({ url: o.natsUrl, name: `troupe-run-${runId}` });
  let prepared;
  let store: SnapshotStore;
  let pools: RolePools;
  let lease: Lease;
  try {
    pools = await startRolePools({ teacher: o.plan.cast?.teacher?.pool ?? null, evaluator: o.plan.cast?.evaluator?.pool ?? null }, session.url, log);
    try {
      prepared = await prepareRecord(session.nc, runId, o, children(o.plan, o.threads, pools.configs, o.oracle));
      store = await createKvSnapshotStore(session.nc, runId);
      lease = await openDirectorLease(session.nc, runId, `troupe.${runId}._client.owner`);
      await ensureProgressStream(session.nc, runId);
    } catch (err) {
      await pools.stop();
      throw err;
    }
  } catch (err) {
    await session.close();
    throw err;
  }
  const { record, spec } = prepared;
  // with hosts: only the director runs here; the director places the others on the hosts
  const placed = new Set((spec.placement?.actors ?? []).map((a) => `${a.role}/${a.id}`));
  const ownAddress = `troupe.${runId}._client.owner`;
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64) || "local";
  let escalated: string | null = null;
  const directorPids = new Set<number>();
  let directorExit = "";
  const sup = startSupervisor({
    run: runId,
    natsUrl: session.url,
    nc: session.nc,
    host: host.startsWith("_") ? `h${host.slice(1)}` : host,
    children: children(o.plan, o.threads, pools.configs, o.oracle).filter((c) => !placed.has(`${c.role}/${c.id}`)),
    intensity: { maxRestarts: 10, withinMs: 60_000 },
    onEvent: (e) => {
      log.debug({ event: e.event, actor: `${e.role}/${e.id}`, pid: e.pid, code: e.code, signal: e.signal }, "supervision");
      if (e.role !== "director") return;
      if (e.event === "started" && e.pid !== undefined) directorPids.add(e.pid);
      if (e.event === "exited") directorExit = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
    },
    onEscalate: (err) => (escalated = err.message),
  });
  const local = (): CastMember[] => sup.children().map((c) => ({ role: c.role, id: c.id, host: sup.host, pid: c.pid ?? null, restarts: c.restarts, backend: "cpu", status: c.state }));
  const onHosts = spec.placement ? await castOnHosts(session.nc, record, runId) : null;
  const cast = async (): Promise<CastMember[]> => [...local(), ...(onHosts ? await onHosts.members() : []), ...pools.members(sup.host)];
  const notes = async () => [...castNotes(o.plan), ...pools.notes(), ...(onHosts ? castRecordNotes(await onHosts.record()) : [])];
  const hostsOf = async () => [
    { name: sup.host, cores: availableParallelism(), backends: ["cpu"] },
    ...(onHosts ? ((await onHosts.record())?.hosts ?? []).map((h) => ({ name: h.name, cores: h.cores, backends: [...h.backends] })) : []),
  ];
  let lastSnapshot: PersistedDirectorSnapshot | null = null;
  // nothing to report before the director stored its first snapshot
  const report = async (summary: RunSummary | null) =>
    o.writeReport && (lastSnapshot || summary) ? o.writeReport({ spec, record, snapshot: lastSnapshot, summary, file: o.file ?? spec.source, cast: await cast(), hosts: await hostsOf(), notes: await notes() }) : null;

  const handle: CastRun = { runId, spec, supervisor: sup, nc: session.nc, url: session.url, done: null as never };
  /** Why waiting is over although no summary came: our director stopped for good, and nobody else runs the run. */
  const directorGone = async (): Promise<string | null> => {
    const d = sup.children().find((c) => c.role === "director");
    if (!d || d.state !== "stopped") return null;
    const cur = await lease.current().catch(() => null);
    const ours = cur !== null && cur.host === hostname() && directorPids.has(cur.pid);
    if (cur && !ours && Date.now() - cur.renewedAt < (o.leaseStaleMs ?? LEASE_STALE_MS)) return null; // another director runs it
    return `the director stopped (${directorExit || "not running"}) without finishing the run` +
      (cur && !ours ? `; ${cur.holder}, which took the run over, stopped renewing its lease ${Math.round((Date.now() - cur.renewedAt) / 1000)} s ago` : "");
  };
  const done = (async (): Promise<CastRunResult> => {
    let reportChain: Promise<unknown> = Promise.resolve();
    try {
      const deadline = spec.curriculum.runTimeoutMs === null ? undefined : t0 + spec.curriculum.runTimeoutMs + 120_000;
      const watched = await watchRun({
        nc: session.nc,
        runId,
        store: store!,
        record,
        deadline,
        stop: async () => escalated ?? o.stop?.() ?? (await directorGone()),
        onSnapshot: (s, rev) => {
          lastSnapshot = s;
          o.onSnapshot?.(s, rev, handle);
        },
        onEvent: (e) => {
          o.onEvent?.(e);
          // a useful report even if this process dies later
          if (e.type === "stage.ended") reportChain = reportChain.then(() => report(null)).catch((err) => log.warn({ err: (err as Error).message }, "interim report failed"));
        },
      });
      await reportChain;
      const paths = await report(watched.summary);
      const summary = watched.summary;
      const failure = watched.reason ?? (lastSnapshot || summary ? null : "the director never stored a snapshot");
      const listed = spec.curriculum.stages.map((s) => s.stage);
      const ok = summary !== null && summary.outcome === "done" && listed.every((st) => summary.stages.some((x) => x.stage === st && x.passed));
      const lastSummary = summary ?? (lastSnapshot ? summarizeRun((lastSnapshot as PersistedDirectorSnapshot).context) : null);
      // the models leave the Object Store before an embedded server takes it away
      const artifacts = await exportRunArtifacts(session.nc, runId, spec.outDir).catch((err: Error) => {
        log.warn({ err: err.message }, "could not copy the run's models to its directory");
        return null;
      });
      return { runId, summary, lastSummary, failure, report: paths ? { json: paths.json, html: paths.html } : null, artifacts, ok, cast: await cast(), wallS: (Date.now() - t0) / 1000 };
    } finally {
      await sup.stop();
      // the run is over here: its actors on hosts stop (the director did this already if it finished)
      if (spec.placement) await releasePlacements(session.nc, runId, ownAddress).catch((err: unknown) => log.warn({ err: (err as Error).message }, "could not remove the run's placements"));
      await pools.stop();
      await session.close();
    }
  })();
  (handle as { done: Promise<CastRunResult> }).done = done;
  return handle;
}

/** Where the actors of a run on hosts are, from the cast record and the hosts' heartbeats. */
async function castOnHosts(nc: NatsConnection, record: RunRecord, runId: string) {
  const registry = await openHostRegistry(nc);
  const read = () => record.get<CastRecord>(RUN_KEYS.cast).catch(() => null);
  // the last status each actor's host reported (its host stops reporting it once the run ends)
  const seen = new Map<string, CastMember>();
  return {
    record: read,
    async members(): Promise<CastMember[]> {
      const r = await read();
      if (!r) return [];
      const records = new Map<string, HostRecord>();
      for (const h of new Set(r.placed.map((p) => p.host))) {
        const e = await registry.get(h).catch(() => null);
        if (e) records.set(h, e.record);
      }
      return r.placed.map((p) => {
        const key = `${p.role}/${p.id}@${p.host}`;
        const a = records.get(p.host)?.runs.find((x) => x.run === runId)?.actors.find((x) => x.role === p.role && x.id === p.id);
        if (a) seen.set(key, { role: p.role, id: p.id, host: p.host, pid: a.pid ?? null, restarts: a.restarts, backend: "cpu", status: a.state });
        const last = seen.get(key);
        return a ? last! : last ? { ...last, status: "stopped" } : { role: p.role, id: p.id, host: p.host, pid: null, restarts: 0, backend: "cpu", status: "not seen" };
      });
    },
  };
}

/** Runs a scenario to its end. */
export async function runCast(o: CastRunOptions): Promise<CastRunResult> {
  return (await startCastRun(o)).done;
}
