// Thunder-Train in the cast: the scenario's `thunder:` section casts `ranks` trainers, each with
// a `dp` config {rank, world}. Rank 0, the leader, takes stage jobs from the work queue as a
// lone trainer does; for a job Thunder-Train covers it asks the other ranks to join
// (`cast.train.dp.join`, broadcast to the trainers every second until the group has formed: a
// broadcast is at most once, and a follower may still be starting) under a group name unique to
// that delivery, and all ranks train the job data-parallel (hosts/thunder). The leader alone writes the job's
// state, progress and checkpoints (the Object Store is shared: a follower resumes from them);
// followers train silently with a read-only view of the store.
//
// On hosts (a scenario with `hosts:`), the director places the ranks like any other actor
// (spread: one per host) and each rank's links listen on its host's link address
// (TROUPE_LINK_ADDRESS, which the host agent sets from its registered address): the ring runs
// host to host; only the join request and the endpoints go through NATS.
//
// A lost rank: with on_peer_loss "stop" the job fails with the group's report in its error (the
// director's retry policy decides what next); with "continue" the survivors finish it from the
// last checkpoint — followers go on only while the leader is among them.
import { createHash } from "node:crypto";
import { type DataParallelReport, runDataParallel } from "../../hosts/mod.js";
import { defineMessage, t } from "../../protocol/mod.js";
import { type RunSpec, TrainJob, type TrainJobBody } from "../cast/mod.js";
import type { ActorContext } from "../runtime/mod.js";
import { type TrainJobOptions, type TrainJobOutcome, runTrainJob } from "./train.js";

export const TrainerDpConfig = t.object({
  rank: t.int({ min: 0, max: 63 }),
  world: t.int({ min: 1, max: 64 }),
  /** this trainer's data address (links listen and dial there; default 127.0.0.1) */
  address: t.optional(t.string({ maxLength: 255 })),
});
export interface TrainerDp {
  readonly rank: number;
  readonly world: number;
  readonly address?: string;
}

/** The leader asks the other ranks to train a job with it. */
export const DpJoin = defineMessage("cast.train.dp.join", t.object({ group: t.string({ maxLength: 64 }), world: t.int({ min: 2 }), job: TrainJob.body }));

/** Whether Thunder-Train covers this job for this trainer. */
export function coveredBy(spec: RunSpec, job: TrainJobBody, dp: TrainerDp | undefined): boolean {
  const th = spec.thunder;
  return !!th && !!dp && dp.world > 1 && th.ranks === dp.world && job.kind !== "heads" && th.jobs.includes(job.kind) && job.lane !== "";
}

/** A short group name per job and delivery, so a redelivered job forms a fresh group. */
export function groupFor(jobId: string, delivery: number): string {
  return `dp${createHash("sha256").update(`${jobId}#${delivery}`).digest("hex").slice(0, 16)}`;
}

export interface DataParallelJobOutcome extends TrainJobOutcome {
  readonly dataParallel: {
    readonly world: number;
    readonly outcome: string;
    readonly lost: readonly number[];
    readonly generations: number;
    /** the leader's gradient sync over every generation: optimizer steps, buckets reduced, those handed over during backward, ms waiting after backward */
    readonly sync: { readonly steps: number; readonly buckets: number; readonly overlapped: number; readonly waitMs: number };
    /** where the leader's links listened */
    readonly address: string;
  };
}

/**
 * This rank's data address: the config's, else the one its host agent was told links listen on
 * (TROUPE_LINK_ADDRESS: the host's registered link address, set when the director placed this
 * trainer on a host), else loopback (every rank on this machine).
 */
export function rankAddress(dp: TrainerDp, env: NodeJS.ProcessEnv = process.env): string {
  return dp.address ?? (env.TROUPE_LINK_ADDRESS || "127.0.0.1");
}

function summary<R>(r: DataParallelReport<R>, world: number, address: string): DataParallelJobOutcome["dataParallel"] {
  const last = r.generations[r.generations.length - 1];
  const sync = { steps: 0, buckets: 0, overlapped: 0, waitMs: 0 };
  for (const g of r.generations) {
    sync.steps += g.sync.steps;
    sync.buckets += g.sync.buckets;
    sync.overlapped += g.sync.overlapped;
    sync.waitMs += g.sync.waitMs;
  }
  sync.waitMs = Math.round(sync.waitMs);
  return { world: last?.world ?? world, outcome: r.outcome, lost: [...r.lost], generations: r.generations.length, sync, address };
}

/** Rank 0: the job, trained by the whole group. Throws when the group stops it. */
export async function leadJob(ctx: ActorContext<unknown>, spec: RunSpec, dp: TrainerDp, delivery: number, o: TrainJobOptions): Promise<DataParallelJobOutcome> {
  const th = spec.thunder!;
  const group = groupFor(o.job.jobId, delivery);
  const ask = () => void ctx.broadcast({ role: "trainer" }, DpJoin, { group, world: dp.world, job: o.job }).catch(() => undefined);
  ask();
  const asking = setInterval(ask, 1000);
  let report: DataParallelReport<TrainJobOutcome>;
  const address = rankAddress(dp);
  try {
    report = await runDataParallel({
      nc: ctx.nc, run: ctx.run, group, rank: 0, world: dp.world, address, hostName: ctx.host,
      compression: th.compression, onPeerLoss: th.onPeerLoss, deadAfterMs: th.deadAfterMs, bucketBytes: th.bucketBytes, log: ctx.log,
    }, (a) => {
      clearInterval(asking);
      return runTrainJob({ ...o, resume: true, dataParallel: { sync: a.sync, globalRows: o.job.batch * dp.world } });
    });
  } finally {
    clearInterval(asking);
  }
  if (!report.result) {
    const g = report.generations[report.generations.length - 1];
    throw new Error(`Thunder-Train stopped: ${g?.error ?? "a rank was lost"} (lost ranks ${report.lost.join(", ")}, on_peer_loss: ${th.onPeerLoss})`);
  }
  return { ...report.result, dataParallel: summary(report, dp.world, address) };
}

/** Ranks > 0: train the job the leader announced, writing nothing of the job's own. */
export async function followJob(ctx: ActorContext<unknown>, spec: RunSpec, dp: TrainerDp, group: string, o: TrainJobOptions): Promise<void> {
  const th = spec.thunder!;
  const report = await runDataParallel({
    nc: ctx.nc, run: ctx.run, group, rank: dp.rank, world: dp.world, address: rankAddress(dp), hostName: ctx.host,
    compression: th.compression, onPeerLoss: th.onPeerLoss, deadAfterMs: th.deadAfterMs, bucketBytes: th.bucketBytes, log: ctx.log,
    canContinue: (lost) => !lost.includes(0),
  }, (a) => runTrainJob({ ...o, resume: true, readOnlyCheckpoints: true, dataParallel: { sync: a.sync, globalRows: o.job.batch * dp.world } }));
  ctx.log.info({ job: o.job.jobId, group, outcome: report.outcome, lost: report.lost }, "followed a data-parallel job");
}
