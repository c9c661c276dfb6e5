// `troupe chaos hosts-run`: a scenario with a `hosts:` section run end to end on a cluster of its
// own (cluster.ts): a nats-server and one `troupe host` agent per declared host, each agent — and
// every actor it forks — in its own network namespace pinned to its own core (the multi-host rig;
// `loopback` runs them as plain processes on 127.0.0.1 instead, and says so). The director runs
// here and places the cast on the agents. Nothing is killed: this is the many-hosts acceptance
// run. What it reports, and checks:
//   placement   where every actor ran; with Thunder-Train, the trainer ranks on as many hosts as
//               there are ranks; with stage 5, the transfer encoder and decoder on different hosts
//   thunder     every Thunder-Train job trained by the whole group (world = ranks), with the
//               leader's sync stats and the data address its links listened on
//   transfer    stage 5's fidelity per codec and split on the same-host path and across hosts, the
//               cross-host rows bit-identical to the same-host ones
//   outcome     the run done with every listed stage passed
import { type Logger, componentLogger, connectNats } from "../../hosts/mod.js";
import { type CastRunOptions, RUN_KEYS, type JobState, openJobStates, openRunRecord, startCastRun } from "../cast/mod.js";
import type { CastRecord } from "../cast/placement/mod.js";
import { type ClusterHost, type ClusterOptions, startCluster } from "./cluster.js";

/** Stage 5's rows as the report has them (report/model.ts TransferRow; actors/ does not import report/). */
export interface TransferRowLike {
  readonly codec: string;
  readonly path?: string | null;
  readonly layer?: number | null;
  readonly bytes_per_token?: number | null;
  readonly kl_mean?: number | null;
  readonly top1?: number | null;
  readonly extra?: Readonly<Record<string, number | string | null>>;
}

export interface HostsRunOptions {
  readonly plan: CastRunOptions["plan"];
  readonly file?: string;
  /** plain processes on 127.0.0.1 instead of network namespaces */
  readonly loopback?: boolean;
  readonly rate?: ClusterOptions["rate"];
  readonly writeReport?: CastRunOptions["writeReport"];
  /** the report's stage-5 rows (the report layer's reader, passed in from above) */
  readonly readTransfer?: (file: string) => Promise<readonly TransferRowLike[]>;
  readonly log?: Logger;
}

export interface ThunderJob {
  readonly job: string;
  readonly kind: string;
  readonly stage: number;
  readonly world: number;
  readonly outcome: string;
  readonly lost: readonly number[];
  readonly generations: number;
  readonly address: string | null;
  readonly sync: { readonly steps: number; readonly buckets: number; readonly overlapped: number; readonly waitMs: number } | null;
  readonly steps: number;
  readonly train_loss: number | null;
}

export interface HostsRunChecks {
  readonly done: boolean;
  readonly all_stages_passed: boolean;
  /** trainer ranks on `ranks` different hosts (true when no thunder: section) */
  readonly ranks_on_distinct_hosts: boolean;
  /** every Thunder-Train job trained by the whole group (true when no thunder: section) */
  readonly thunder_full_world: boolean;
  /** encoder and decoder on different hosts (true when stage 5 is not listed) */
  readonly transfer_across_hosts: boolean;
  /** every cross-host row bit-identical to its same-host row, and raw-f32 among them (true when stage 5 is not listed) */
  readonly cross_host_identical: boolean;
}

export interface HostsRunReport {
  readonly run_id: string;
  readonly kind: "namespaces" | "loopback";
  readonly hosts: readonly ClusterHost[];
  readonly outcome: string;
  readonly stopped: { readonly kind: string; readonly reason: string } | null;
  readonly stages: readonly { stage: number; passed: boolean; metric: number | null; attempts: number }[];
  /** role/id → host */
  readonly placed: readonly { role: string; id: string; host: string }[];
  readonly thunder: readonly ThunderJob[];
  readonly transfer: { readonly same_host: readonly TransferRowLike[]; readonly cross_host: readonly TransferRowLike[] };
  readonly checks: HostsRunChecks;
  readonly report: string | null;
  readonly failure: string | null;
  readonly ok: boolean;
  readonly agent_logs?: Record<string, string[]>;
  readonly wall_s: number;
}

export async function runOnHosts(o: HostsRunOptions): Promise<HostsRunReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  const hosts = (o.plan.hosts ?? []).map((h) => h.name);
  if (hosts.length < 2 || !o.plan.placement) throw new Error("chaos hosts-run needs a scenario with two or more hosts: and a placement: section (scenarios/quickstart-hosts.yaml)");
  const cluster = await startCluster({ hosts, namespaces: !o.loopback, ...(o.rate !== undefined ? { rate: o.rate } : {}) });
  log.info({ kind: cluster.kind, hosts: cluster.hosts }, "cluster up");
  const nc = await connectNats(cluster.server, { name: "troupe-chaos-hosts-run" });
  try {
    const run = await startCastRun({ plan: o.plan, file: o.file ?? null, natsUrl: cluster.server.url, ...(o.writeReport ? { writeReport: o.writeReport } : {}) });
    const result = await run.done;
    const record = await openRunRecord(nc, run.runId);
    const cast = await record.get<CastRecord>(RUN_KEYS.cast);
    const placed = (cast?.placed ?? []).map((p) => ({ role: p.role, id: p.id, host: p.host }));
    const jobs = await openJobStates(nc, run.runId);
    const thunder: ThunderJob[] = [];
    for (const key of (await jobs.keys()).sort()) {
      const s: JobState | undefined = (await jobs.get(key))?.value;
      const dp = s?.result?.dataParallel;
      if (!s || !dp) continue;
      thunder.push({
        job: key, kind: s.kind, stage: s.stage, world: dp.world, outcome: dp.outcome, lost: [...dp.lost], generations: dp.generations,
        address: dp.address ?? null, sync: dp.sync ?? null, steps: s.result?.steps ?? 0, train_loss: s.result?.trainLoss ?? null,
      });
    }
    const rows = result.report && o.readTransfer ? await o.readTransfer(result.report.json) : [];
    const transfer = { same_host: rows.filter((r) => !(r.path ?? "").startsWith("cross host")), cross_host: rows.filter((r) => (r.path ?? "").startsWith("cross host")) };
    const summary = result.summary;
    const listed = o.plan.curriculum.stages.map((s) => s.stage);
    const checks = judgeHostsRun({
      outcome: summary?.outcome ?? null,
      stages: (summary?.stages ?? []).filter((s) => listed.includes(s.stage)).map((s) => ({ stage: s.stage, passed: s.passed })),
      listed,
      ranks: o.plan.thunder?.ranks ?? null,
      thunderJobs: o.plan.thunder?.jobs ?? [],
      placed,
      thunder,
      transfer,
    });
    const ok = Object.values(checks).every(Boolean);
    return {
      run_id: run.runId,
      kind: cluster.kind,
      hosts: cluster.hosts,
      outcome: summary?.outcome ?? result.failure ?? "failed",
      stopped: summary?.stopped ? { kind: summary.stopped.kind, reason: summary.stopped.reason } : null,
      stages: (result.lastSummary?.stages ?? []).filter((s) => listed.includes(s.stage)).map((s) => ({ stage: s.stage, passed: s.passed, metric: s.metric, attempts: s.attempts })),
      placed,
      thunder,
      transfer,
      checks,
      report: result.report?.json ?? null,
      failure: result.failure,
      ok,
      ...(ok ? {} : { agent_logs: Object.fromEntries([...cluster.agents].map(([h, a]) => [h, a.log().split("\n").slice(-30)])) }),
      wall_s: Math.round((Date.now() - t0) / 100) / 10,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await cluster.stop();
  }
}

/** The run's verdict (pure, so a test shows each check failing). */
export function judgeHostsRun(r: {
  outcome: string | null;
  stages: readonly { stage: number; passed: boolean }[];
  listed: readonly number[];
  ranks: number | null;
  /** the job kinds Thunder-Train covers (base, adapter) */
  thunderJobs: readonly string[];
  placed: readonly { role: string; id: string; host: string }[];
  thunder: readonly Pick<ThunderJob, "kind" | "world" | "outcome" | "stage">[];
  transfer: { same_host: readonly TransferRowLike[]; cross_host: readonly TransferRowLike[] };
}): HostsRunChecks {
  const hostOf = (role: string) => r.placed.filter((p) => p.role === role).map((p) => p.host);
  const trainers = hostOf("trainer");
  const ranks = r.ranks ?? 1;
  const ranksOk = r.ranks === null || (trainers.length === ranks && new Set(trainers).size === ranks);
  // every covered job kind that ran, trained by all ranks; at least one such job
  const covered = r.thunder.filter((j) => r.thunderJobs.includes(j.kind));
  const thunderOk = r.ranks === null || (covered.length > 0 && covered.every((j) => j.world === ranks && j.outcome === "done"));
  const stage5 = r.listed.includes(5);
  const enc = hostOf("transfer_encoder");
  const dec = hostOf("transfer_decoder");
  const acrossOk = !stage5 || (enc.length > 0 && dec.length > 0 && enc.every((h) => !dec.includes(h)));
  const cross = r.transfer.cross_host;
  const identicalOk = !stage5 || (
    cross.length > 0 &&
    cross.length === r.transfer.same_host.length &&
    cross.some((c) => c.codec === "raw-f32") &&
    cross.every((c) => {
      const same = r.transfer.same_host.find((s) => s.codec === c.codec && s.layer === c.layer);
      return c.extra?.same_host === "bit-exact" && same !== undefined && same.kl_mean === c.kl_mean && same.top1 === c.top1;
    })
  );
  return {
    done: r.outcome === "done",
    all_stages_passed: r.listed.every((st) => r.stages.some((s) => s.stage === st && s.passed)),
    ranks_on_distinct_hosts: ranksOk,
    thunder_full_world: thunderOk,
    transfer_across_hosts: acrossOk,
    cross_host_identical: identicalOk,
  };
}
