// The trainer (role "trainer"): takes stage jobs from the run's JetStream work queue, one at
// a time, and trains what each names (train.ts; heads.ts for the head stages 2-6). It writes the job's state to KV as it goes
// (running, each durable checkpoint, done / failed / cancelled), stores its losses in the
// run's progress stream every few hundred milliseconds (the director follows it), and
// announces every checkpoint to the evaluator.
// Killed mid-job, it is restarted by its supervisor; the queue hands the job back after the
// ack wait and training resumes from the job's newest checkpoint. A cancel (a broadcast, or
// the flag in KV that a trainer taking the job later also sees) stops the job for good — if it
// comes from the director that owns the run: a cancel whose epoch is older than the director
// lease's is refused (a displaced director does not get to stop its successor's work).
// Failures that NATS or the disk may fix by themselves (NATS away past every retry, a final
// checkpoint that could not be written) are not `failed`: the job goes back to the queue and
// is resumed from its last checkpoint. Only the job's own errors (bad lane, a model error)
// make it `failed`, and never over a `done` that landed.
import { type Lease, PermanentJobError, isNatsOutage, isPermanentJobError, type RunState } from "../../hosts/mod.js";
import { isCheckpointWriteError, isTrainingAbortedError, type StepRecord } from "../../models/mod.js";
import { createStamper, t } from "../../protocol/mod.js";
import { type ActorContext, defineActor, on } from "../runtime/mod.js";
import {
  CancelJob,
  JobCancelledError,
  type JobState,
  CheckpointAnnounced,
  type RunSpec,
  type StoredCheckpoint,
  type TrainJobBody,
  cancelFromOwner,
  checkpointStores,
  ensureProgressStream,
  openHeads,
  newJobState,
  openDirectorLease,
  openJobQueue,
  openJobStates,
  openRunRecord,
  processJobs,
  progressPublisher,
  useThreads,
} from "../cast/mod.js";
import { runHeadsJob } from "./heads.js";
import { runTrainJob } from "./train.js";
import { DpJoin, type TrainerDp, TrainerDpConfig, coveredBy, followJob, leadJob } from "./parallel.js";

const CANCEL_POLL_MS = 1000;

type Config = { threads?: number; dp?: TrainerDp } | undefined;

const running = new Map<string, AbortController>();
// groups this rank joined as a follower (the leader repeats its ask until the group forms)
const joined = new Set<string>();
let lease: Lease | null = null;

/** A cancel counts only if the director that asked still owns the run. */
const honoured = async (epoch: number | null | undefined): Promise<boolean> => !lease || (await cancelFromOwner(lease, epoch));

/** Errors that may go away by themselves: the job is retried, not failed. */
function transient(err: unknown): boolean {
  return isNatsOutage(err) || isCheckpointWriteError(err);
}

async function handleJob(ctx: ActorContext<Config>, spec: RunSpec, states: RunState<JobState>, job: TrainJobBody, stores: ReturnType<typeof checkpointStores>): Promise<void> {
  const prev = (await states.get(job.jobId))?.value;
  if (prev?.state === "done" || prev?.state === "failed" || prev?.state === "cancelled") return; // finished before: just ack
  const update = (fn: (s: JobState) => Partial<JobState>) =>
    states.update(job.jobId, (p) => {
      const cur = p ?? newJobState(job);
      // a settled job stays as it is (a redelivered or late write never reopens it)
      if (cur.state === "done" || cur.state === "failed" || cur.state === "cancelled") return cur;
      return { ...cur, ...fn(cur), updatedAt: Date.now() };
    });
  const refuse = (s: JobState) => {
    ctx.log.warn({ job: job.jobId, epoch: s.cancelEpoch ?? 0 }, "refused a cancel from a director that no longer owns the run");
    return update((c) => (c.cancel === s.cancel ? { cancel: null, cancelEpoch: null, refusedCancels: (c.refusedCancels ?? 0) + 1 } : {}));
  };
  if (prev?.cancel) {
    if (await honoured(prev.cancelEpoch)) {
      await update(() => ({ state: "cancelled" }));
      return;
    }
    await refuse(prev);
  }
  const taken = await update((s) => ({ state: "running", deliveries: s.deliveries + 1, pids: [...s.pids, process.pid], error: null }));

  const abort = new AbortController();
  running.set(job.jobId, abort);
  const onStop = () => abort.abort(new Error("the trainer is stopping"));
  ctx.signal.addEventListener("abort", onStop, { once: true });
  // one poll at a time: during an outage a read waits for the reconnect instead of piling up
  let polling = true;
  const poll = async () => {
    while (polling && !abort.signal.aborted) {
      await new Promise((r) => setTimeout(r, CANCEL_POLL_MS));
      const s = (await states.get(job.jobId).catch(() => null))?.value;
      if (!polling || !s?.cancel) continue;
      if (await honoured(s.cancelEpoch).catch(() => false)) abort.abort(new JobCancelledError(job.jobId, s.cancel));
      else await refuse(s).catch(() => undefined);
    }
  };
  const polled = poll();
  const progress = progressPublisher({
    nc: ctx.nc,
    run: ctx.run,
    head: { jobId: job.jobId, stage: job.stage, attempt: job.attempt, steps: job.steps },
    delivery: taken.value.deliveries,
    stamper: createStamper(ctx.run, ctx.address),
    codec: ctx.codec,
    onError: (err) => ctx.log.warn({ err: err.message }, "a progress report was not stored"),
  });
  let tokens = 0;
  let saves = Promise.resolve();
  const onCheckpoint = (ref: StoredCheckpoint) => {
    // the progress up to the checkpoint is stored before the job state names it: a trainer
    // that resumes from it publishes from the step after, so the stream (the loss curve) has
    // no gap between what this trainer sent and where the next one begins
    saves = saves.then(() => progress.flush()).then(() => update(() => ({ checkpoint: ref, step: ref.step }))).then(() => undefined, () => undefined);
    void ctx.broadcast({ role: "evaluator" }, CheckpointAnnounced, {
      jobId: job.jobId,
      kind: job.kind,
      stage: job.stage,
      attempt: job.attempt,
      ...(job.evalLane ? { evalLane: job.evalLane } : {}),
      checkpoint: ref,
    }).catch(() => undefined);
  };
  try {
    const onStep = (r: StepRecord) => {
      tokens += r.tokens;
      progress.add({ step: r.step, loss: r.loss, tokens }, r.step === job.steps);
    };
    const jobOptions = { spec, job, stores, signal: abort.signal, log: ctx.log, onStep, onCheckpoint };
    const dp = ctx.config?.dp;
    const r = job.kind === "heads"
      ? await runHeadsJob({
          spec, job, nc: ctx.nc, stores, objects: await openHeads(ctx.nc, ctx.run), signal: abort.signal, log: ctx.log,
          onStep: (step, losses) => progress.add({ step, loss: losses.total ?? Number.NaN, tokens: 0, losses }, step === job.steps),
        })
      : coveredBy(spec, job, dp)
        ? await leadJob(ctx as ActorContext<unknown>, spec, dp!, taken.value.deliveries, jobOptions)
        : await runTrainJob(jobOptions);
    await progress.flush();
    await saves;
    const { resumedFrom, ...result } = r;
    // reconnect-safe: retried across an outage, and a write whose acknowledgement was lost is
    // found landed, not written twice; if NATS stays away, the job comes back (transient below)
    await update((s) => ({
      state: "done",
      step: r.steps,
      result,
      resumedFrom: resumedFrom !== null && resumedFrom > 0 ? [...s.resumedFrom, resumedFrom] : s.resumedFrom,
    }));
    ctx.log.info({ job: job.jobId, steps: r.steps, loss: r.trainLoss, resumedFrom }, "job done");
  } catch (err) {
    await progress.flush();
    await saves;
    const reason = abort.signal.reason;
    if (reason instanceof JobCancelledError || (isTrainingAbortedError(err) && abort.signal.aborted && !ctx.signal.aborted)) {
      await update(() => ({ state: "cancelled" }));
      return;
    }
    if (ctx.signal.aborted) throw err; // stopping: the queue gives the job to the next trainer
    const message = (err as Error).message ?? String(err);
    if (transient(err)) {
      // not the job's fault: it comes back after the queue's backoff and resumes from its checkpoint
      ctx.log.warn({ job: job.jobId, err: message }, "job interrupted by a transient failure; it will be resumed");
      throw new Error(`transient: ${message}`, { cause: err });
    }
    await update(() => ({ state: "failed", error: message }));
    throw isPermanentJobError(err) ? err : new PermanentJobError(message, { cause: err });
  } finally {
    polling = false;
    void polled;
    ctx.signal.removeEventListener("abort", onStop);
    running.delete(job.jobId);
  }
}

// what a data-parallel follower needs to train a job it is asked to join
let follower: { spec: RunSpec; stores: ReturnType<typeof checkpointStores> } | null = null;

export default defineActor<Config>({
  role: "trainer",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })), dp: t.optional(TrainerDpConfig) })),
  concurrency: 4,
  handlers: [
    on(CancelJob, async (body, ctx) => {
      const job = running.get(body.jobId);
      if (!job) return;
      if (await honoured(body.epoch)) job.abort(new JobCancelledError(body.jobId, body.reason));
      else ctx.log.warn({ job: body.jobId, epoch: body.epoch ?? 0 }, "refused a cancel broadcast from a director that no longer owns the run");
    }),
    on(DpJoin, (body, ctx) => {
      const dp = ctx.config?.dp;
      if (!dp || dp.rank === 0 || !follower || body.world !== dp.world || joined.has(body.group)) return;
      joined.add(body.group);
      const abort = new AbortController();
      running.set(body.job.jobId, abort);
      const onStop = () => abort.abort(new Error("the trainer is stopping"));
      ctx.signal.addEventListener("abort", onStop, { once: true });
      const o = { spec: follower.spec, job: body.job, stores: follower.stores, signal: abort.signal, log: ctx.log, onStep: () => undefined, onCheckpoint: () => undefined };
      void followJob(ctx, follower.spec, dp, body.group, o)
        .catch((err: unknown) => ctx.log.warn({ job: body.job.jobId, err: (err as Error).message }, "a data-parallel job this rank followed ended with an error"))
        .finally(() => {
          running.delete(body.job.jobId);
          ctx.signal.removeEventListener("abort", onStop);
        });
    }),
  ],
  async onStart(ctx) {
    useThreads(ctx.config?.threads);
    const record = await openRunRecord(ctx.nc, ctx.run, ctx.address);
    const spec = await record.spec();
    if (ctx.config?.dp && ctx.config.dp.rank > 0) {
      // a follower takes no jobs from the queue: it trains the ones its leader announces
      follower = { spec, stores: checkpointStores(ctx.nc) };
      return;
    }
    const states = await openJobStates(ctx.nc, ctx.run, ctx.address);
    const queue = await openJobQueue(ctx.nc, ctx.run, ctx.address);
    lease = await openDirectorLease(ctx.nc, ctx.run, ctx.address);
    await ensureProgressStream(ctx.nc, ctx.run);
    const stores = checkpointStores(ctx.nc);
    await processJobs(queue, states, (job) => handleJob(ctx, spec, states, job.body, stores), { concurrency: 1, signal: ctx.signal });
  },
});
