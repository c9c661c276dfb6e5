// troupe status [--run ID] [--nats URL] [--json] [--snapshot FILE] — where a run is: stage,
// attempt, step, losses, λ and every stage's gate. The formatting is statusOf/formatStatus in
// actors/director (pure); this file only finds the snapshot: a saved file, the director's KV
// bucket on a NATS server (the run's own, or the most recently written one), or — without a
// server — the report a finished run left on disk (runs/<run>/report.json).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { PersistedDirectorSnapshot } from "../../actors/director/mod.js";
import { urlArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface StatusOptions {
  run?: string;
  json?: boolean;
  snapshot?: string;
  nats?: string;
  runs?: string;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("show a run's stage, step, losses and gates")
    .option("--run <id>", "run id (default: the latest run)")
    .option("--nats <url>", "NATS server holding the run's KV (troupe run prints it)", urlArg("--nats"))
    .option("--snapshot <file>", "read a saved director snapshot (JSON) instead of KV")
    .option("--runs <dir>", "without --nats: where finished runs' reports are", "runs")
    .option("--json", "print one JSON document")
    .action(async (opts: StatusOptions) => {
      if (!opts.snapshot && !opts.nats) return statusFromReport(opts);
      const { statusOf, formatStatus, isDirectorSnapshotError } = await import("../../actors/director/mod.js");
      const snapshot = opts.snapshot ? readSnapshotFile(opts.snapshot) : await readSnapshotFromKv(opts.nats!, opts.run);
      let view;
      try {
        view = statusOf(snapshot);
      } catch (err) {
        if (isDirectorSnapshotError(err)) throw new UsageError(`${opts.snapshot ?? "snapshot"}: ${err.message}`, { cause: err });
        throw err;
      }
      if (opts.run && view.run_id !== opts.run) throw new UsageError(`the snapshot is of run ${view.run_id}, not ${opts.run}`);
      if (opts.json) printJson(view);
      else printLine(formatStatus(view));
    });
}

/** A file holding either a persisted snapshot or a stored `{ snapshot, revision }`. */
function readSnapshotFile(file: string): PersistedDirectorSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: cannot read a JSON snapshot (${(err as Error).message})`, { cause: err });
  }
  const inner = (data as { snapshot?: unknown })?.snapshot;
  return (inner && typeof inner === "object" ? inner : data) as PersistedDirectorSnapshot;
}

/** The director's snapshot of `run` (or of the run whose director bucket was written last). */
async function readSnapshotFromKv(url: string, run: string | undefined): Promise<PersistedDirectorSnapshot> {
  const { connectNats } = await import("../../hosts/mod.js");
  const { createKvSnapshotStore } = await import("../../actors/cast/mod.js");
  const nc = await connectNats(url, { name: "troupe-status", reconnect: false });
  try {
    const id = run ?? (await latestRun(nc));
    const stored = await (await createKvSnapshotStore(nc, id)).load(id);
    if (!stored) throw new UsageError(`run ${id} has no director snapshot on ${url} (is the run id right? troupe run prints it)`);
    return stored.snapshot;
  } finally {
    await nc.close();
  }
}

async function latestRun(nc: import("../../hosts/mod.js").NatsConnection): Promise<string> {
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const jsm = await jetstreamManager(nc);
  let best: { run: string; ts: string } | null = null;
  for await (const s of jsm.streams.list()) {
    const m = /^KV_troupe_(.+)_director$/.exec(s.config.name);
    if (m && (!best || s.state.last_ts > best.ts)) best = { run: m[1]!, ts: s.state.last_ts };
  }
  if (!best) throw new UsageError("no troupe run on this server; start one with troupe run FILE --nats URL");
  return best.run;
}

/** No server given: the report of a finished run on disk, and how to reach a live one. */
function statusFromReport(opts: StatusOptions): void {
  const dir = opts.runs ?? "runs";
  const runs = existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, "report.json"))) : [];
  const pick = opts.run ?? runs.sort((a, b) => statSync(join(dir, b, "report.json")).mtimeMs - statSync(join(dir, a, "report.json")).mtimeMs)[0];
  const file = pick ? join(dir, pick, "report.json") : null;
  const hint =
    "a live run is read from its NATS server: troupe status --nats URL [--run ID] " +
    "(troupe run prints the URL and the run id when it starts; use --nats with troupe run to keep the server)";
  if (!file || !existsSync(file)) {
    throw new UsageError(opts.run ? `no report for run ${opts.run} in ${dir}/; ${hint}` : `no finished run in ${dir}/; ${hint}`);
  }
  const r = JSON.parse(readFileSync(file, "utf8")) as {
    run_id: string;
    outcome: string;
    wall_s: number;
    resumes: number;
    stopped?: { reason: string };
    stages: { stage: number; name: string; status: string; verdict: string | null; note: string | null; attempts: number }[];
  };
  if (opts.json) {
    printJson({ source: file, run_id: r.run_id, outcome: r.outcome, stages: r.stages, stopped: r.stopped ?? null, wall_s: r.wall_s, resumes: r.resumes });
    return;
  }
  printLine(`run ${r.run_id} · ${r.outcome} · ${r.wall_s} s (from ${file})`);
  for (const s of r.stages) printLine(`  ${`${s.stage} ${s.name}`.padEnd(26)}  ${s.status.padEnd(13)}  ${s.verdict ?? s.note ?? ""}${s.attempts > 1 ? `  (${s.attempts} attempts)` : ""}`);
  if (r.stopped) printLine(`  stopped: ${r.stopped.reason}`);
  printLine(`(${hint})`);
}
