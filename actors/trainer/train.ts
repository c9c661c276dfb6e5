// What the trainer does with one stage job, through the models layer's trainer loop:
//   base     a fresh GPT of the run's config, pretrained on the job's lane (all parameters);
//            without a lane, the seeded initialisation saved as step 0
//   adapter  the frozen base from its checkpoint with a LoRA/DoRA adapter, trained on the
//            lane minus any prompt of the eval lane (prompt tokens masked)
// Checkpoints go to the job's bucket every `checkpointEvery` steps and at the end; a job taken
// again (its trainer died) resumes from the newest good one. `onCheckpoint` hears each one
// once it is durable.
import {
  type CheckpointRef,
  type CheckpointStore,
  type DataParallelOptions,
  type StepRecord,
  CheckpointWriteError,
  applyLora,
  modelFromCheckpoint,
  specOf,
  trainSft,
} from "../../models/mod.js";
import type { Logger } from "../../hosts/mod.js";
import {
  CastSpecError,
  type JobResult,
  type RunSpec,
  type StoredCheckpoint,
  type TrainJobBody,
  gptConfig,
  initialModel,
  loadLane,
  loraConfig,
  withoutPrompts,
} from "../cast/mod.js";

export interface TrainJobOptions {
  readonly spec: RunSpec;
  readonly job: TrainJobBody;
  readonly stores: (bucket: string) => CheckpointStore;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly onStep: (r: StepRecord) => void;
  readonly onCheckpoint: (ref: StoredCheckpoint) => void;
  /** Thunder-Train: this rank's share of every batch, gradients synced over the group */
  readonly dataParallel?: DataParallelOptions;
  /** a data-parallel follower reads the job's checkpoints (to resume) but never writes them */
  readonly readOnlyCheckpoints?: boolean;
  /** continue from the newest checkpoint even if the job's first steps wrote none yet */
  readonly resume?: boolean;
}

export interface TrainJobOutcome extends JobResult {
  readonly resumedFrom: number | null;
}

/** A store a data-parallel follower resumes from but never changes (the leader writes). */
function readOnly(store: CheckpointStore): CheckpointStore {
  return {
    location: store.location,
    save: async (meta) => ({ run: meta.run, stage: meta.stage, step: meta.step, kind: meta.kind ?? "step" }),
    load: (ref) => store.load(ref),
    list: (run, stage, kind) => store.list(run, stage, kind),
    latestGood: (run, stage, kind) => store.latestGood(run, stage, kind),
    remove: async () => undefined,
  };
}

/** A store that tells `onSaved` about every checkpoint once it is written. */
function announcing(store: CheckpointStore, bucket: string, onSaved: (ref: StoredCheckpoint) => void): CheckpointStore {
  return {
    location: store.location,
    save: (meta, tensors) =>
      store.save(meta, tensors).then((ref: CheckpointRef) => {
        if (ref.kind === "step") onSaved({ bucket, run: ref.run, stage: ref.stage, step: ref.step, kind: ref.kind });
        return ref;
      }),
    load: (ref) => store.load(ref),
    list: (run, stage, kind) => store.list(run, stage, kind),
    latestGood: (run, stage, kind) => store.latestGood(run, stage, kind),
    remove: (ref) => store.remove(ref),
  };
}

export async function runTrainJob(o: TrainJobOptions): Promise<TrainJobOutcome> {
  const { spec, job } = o;
  const t0 = performance.now();
  const target = job.checkpoints;
  const shared = o.stores(target.bucket);
  const store = o.readOnlyCheckpoints ? readOnly(shared) : announcing(shared, target.bucket, o.onCheckpoint);
  const stored = (step: number): StoredCheckpoint => ({ bucket: target.bucket, run: target.run, stage: target.stage, step, kind: "step" });

  if (job.kind === "base" && job.lane === "") {
    // no pretraining: the seeded initialisation is the base
    const model = initialModel(spec, job.seed);
    await store.save({ run: target.run, stage: target.stage, step: 0, config: { model: specOf(model) as never }, state: null }, { model: model.namedParameters() });
    return { steps: 0, trainLoss: Number.NaN, firstLoss: null, tokensPerS: 0, wallMs: performance.now() - t0, final: stored(0), removedHeldOut: 0, examples: 0, resumedFrom: null };
  }

  const lane = await loadLane(spec, job.lane);
  const held = job.evalLane ? await loadLane(spec, job.evalLane) : null;
  const { items, removed } = held ? withoutPrompts(lane.items, held.items) : { items: [...lane.items], removed: 0 };
  if (removed > 0) o.log.info({ lane: job.lane, evalLane: job.evalLane, removed }, "training examples also in the eval lane were dropped");
  const data = { train: items, heldOut: [], describe: { ...lane.describe, removed_heldout_prompts: removed } };

  let firstLoss: number | null = null;
  const common = {
    data,
    steps: job.steps,
    batch: job.batch,
    lr: job.lr,
    warmupSteps: job.warmup,
    minLr: job.lr / 10,
    seed: job.seed,
    checkpoints: { store, run: target.run, stage: target.stage, every: job.checkpointEvery, keep: 2 },
    // resume only what exists: a fresh job has nothing to resume (and says so at warn level)
    resume: (o.resume ?? true) && (await store.list(target.run, target.stage)).length > 0,
    ...(o.dataParallel ? { dataParallel: o.dataParallel } : {}),
    onStep: (r: StepRecord) => {
      firstLoss ??= r.loss;
      o.onStep(r);
    },
    signal: o.signal,
    log: o.log,
  };

  let result;
  if (job.kind === "base") {
    result = spec.model.hf ? await trainSft({ ...common, model: initialModel(spec, job.seed) }) : await trainSft({ ...common, config: gptConfig(spec) });
  } else {
    if (!job.base) throw new CastSpecError(`adapter job ${job.jobId} names no base checkpoint`);
    if (!spec.model.lora) throw new CastSpecError(`stage ${job.stage} trains an adapter, but the scenario's model has no lora: section`);
    const b = job.base;
    const ck = await o.stores(b.bucket).load({ run: b.run, stage: b.stage, step: b.step, kind: b.kind });
    const { model } = modelFromCheckpoint(ck);
    applyLora(model, loraConfig(spec.model.lora, spec.model.arch ?? "gpt2"), { seed: job.seed });
    result = await trainSft({ ...common, model, extraConfig: { base: b } });
  }
  // the loop guarantees it (or throws CheckpointWriteError); a job never reports an older
  // checkpoint as its final one (guards #16 item 4)
  if (result.checkpoint?.step !== result.steps) {
    throw new CheckpointWriteError(result.steps, 1, { cause: new Error(`job ${job.jobId}: the newest checkpoint is at step ${result.checkpoint?.step ?? "none"}`) });
  }
  return {
    steps: result.steps,
    trainLoss: result.trainLoss,
    firstLoss,
    tokensPerS: result.tokensPerS,
    wallMs: performance.now() - t0,
    final: stored(result.checkpoint!.step),
    removedHeldOut: removed,
    examples: items.length,
    resumedFrom: result.resumedFrom,
  };
}
