// The trainer (role "trainer"): takes stage jobs from the run's JetStream work queue, one at
// a time, and trains what each names (train.ts). It writes the job's state to KV as it goes
// (running, each durable checkpoint, done / failed / cancelled), stores its losses in the
// run's progress stream every few hundred milliseconds (the director follows it), and
// announces every checkpoint to the evaluator.
// Killed mid-job, it is restarted by its supervisor; the queue hands the job back after the
// ack wait and training resumes from the job's newest checkpoint. A cancel (a broadcast, or
// the flag in KV that a trainer taking the job later also sees) stops the job for good.
import { PermanentJobError, isPermanentJobError, type RunState } from "../../hosts/mod.js";
import { isTrainingAbortedError, type StepRecord } from "../../models/mod.js";
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
  checkpointStores,
  ensureProgressStream,
  newJobState,
  openJobQueue,
  openJobStates,
  openRunRecord,
  progressPublisher,
  useThreads,
} from "../cast/mod.js";
import { runTrainJob } from "./train.js";
import { DpJoin, type TrainerDp, TrainerDpConfig, coveredBy, followJob, leadJob } from "./parallel.js";

const CANCEL_POLL_MS = 1000;

type Config = { threads?: number; dp?: TrainerDp } | undefined;

const running = new Map<string, AbortController>();
// groups this rank joined as a follower (the leader repeats its ask until the group forms)
const joined = new Set<string>();

async function handleJob(ctx: ActorContext<Config>, spec: RunSpec, states: RunState<JobState>, job: TrainJobBody, stores: ReturnType<typeof checkpointStores>): Promise<void> {
  const prev = (await states.get(job.jobId))?.value;
  if (prev?.state === "done" || prev?.state === "failed" || prev?.state === "cancelled") return; // finished before: just ack
  const update = (fn: (s: JobState) => Partial<JobState>) =>
    states.update(job.jobId, (p) => {
      const cur = p ?? newJobState(job);
      return { ...cur, ...fn(cur), updatedAt: Date.now() };
    });
  if (prev?.cancel) {
    await update(() => ({ state: "cancelled" }));
    return;
  }
  const taken = await update((s) => ({ state: "running", deliveries: s.deliveries + 1, pids: [...s.pids, process.pid], error: null }));

  const abort = new AbortController();
  running.set(job.jobId, abort);
  const onStop = () => abort.abort(new Error("the trainer is stopping"));
  ctx.signal.addEventListener("abort", onStop, { once: true });
  const poll = setInterval(() => {
    void states.get(job.jobId).then((s) => {
      if (s?.value.cancel) abort.abort(new JobCancelledError(job.jobId, s.value.cancel));
    }, () => undefined);
  }, CANCEL_POLL_MS);
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
    saves = saves.then(() => update(() => ({ checkpoint: ref, step: ref.step })).then(() => undefined, () => undefined));
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
    const r = coveredBy(spec, job, dp) ? await leadJob(ctx as ActorContext<unknown>, spec, dp!, taken.value.deliveries, jobOptions) : await runTrainJob(jobOptions);
    await progress.flush();
    await saves;
    const { resumedFrom, ...result } = r;
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
    await update(() => ({ state: "failed", error: message }));
    throw isPermanentJobError(err) ? err : new PermanentJobError(message, { cause: err });
  } finally {
    clearInterval(poll);
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
    on(CancelJob, (body) => {
      running.get(body.jobId)?.abort(new JobCancelledError(body.jobId, body.reason));
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
    await ensureProgressStream(ctx.nc, ctx.run);
    const stores = checkpointStores(ctx.nc);
    await queue.process((job) => handleJob(ctx, spec, states, job.body, stores), { concurrency: 1, signal: ctx.signal });
  },
});
