// What the training tasks share: run options (steps, optimizer, evaluation, checkpoints,
// callbacks) and the resume-or-start logic.
import type { CausalLM } from "../arch/mod.js";
import type { CheckpointRef, CheckpointStore, Checkpoint, JsonValue } from "../checkpoint/mod.js";
import { CheckpointNotFoundError } from "../errors.js";
import type { Logger } from "../log.js";
import { modelsLogger } from "../log.js";
import type { GradientSync, StepRecord, TrainProgress } from "../training/mod.js";
import { type ResumableBatcher, shardBatches } from "../../data/mod.js";
import type { ModelSpec } from "../spec.js";

export interface RunOptions {
  readonly steps: number;
  /** Rows per micro-batch. */
  readonly batch?: number;
  readonly accumulate?: number;
  readonly lr?: number;
  readonly warmupSteps?: number;
  readonly minLr?: number;
  readonly weightDecay?: number;
  readonly betas?: readonly [number, number];
  readonly clipNorm?: number | null;
  /** Evaluate every this many steps (default steps/10). */
  readonly evalEvery?: number;
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number };
  /** Stop after the step during which this many seconds of wall clock were spent. */
  readonly maxSeconds?: number;
  /** Seed of the data order (and of the weights of a fresh model). */
  readonly seed?: number;
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly run: string;
    readonly stage: string;
    readonly every: number;
    readonly keep?: number;
  };
  /** Continue from the newest good checkpoint of (run, stage) when there is one. */
  readonly resume?: boolean;
  readonly onStep?: (r: StepRecord) => void;
  readonly onProgress?: (p: TrainProgress) => void;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  /** Data-parallel training (Thunder-Train): this rank's share of each global batch, synced. */
  readonly dataParallel?: DataParallelOptions;
}

export interface DataParallelOptions {
  readonly sync: GradientSync;
  /**
   * Rows of the global batch every rank draws from the same sampler (usually batch × world ×
   * accumulate at the start). Keep it when the group shrinks: the survivors then take more
   * micro-batches each and the training is the same.
   */
  readonly globalRows: number;
}

/**
 * The batcher a task trains on: the sampler itself, or (data-parallel) this rank's micro-batches
 * of `globalRows`-row global batches; `rows` is what the sampler must draw per batch.
 */
export function dataPlan(o: RunOptions, batch: number): { rows: number; wrap<S>(b: ResumableBatcher<S>): ResumableBatcher<unknown>; accumulate: number | undefined } {
  const dp = o.dataParallel;
  if (!dp) return { rows: batch, wrap: (b) => b, accumulate: o.accumulate };
  const { rank, world } = dp.sync;
  let micro = 0;
  return {
    rows: dp.globalRows,
    wrap: (b) => {
      const s = shardBatches(b, { rank, world, microRows: batch });
      micro = s.microBatchesOf(dp.globalRows);
      return s;
    },
    get accumulate() {
      return micro || undefined;
    },
  };
}

/** The newest good checkpoint to resume from, or null; refused ones are logged. */
export async function resumePoint(o: RunOptions): Promise<Checkpoint | null> {
  if (!o.resume) return null;
  if (!o.checkpoints) throw new CheckpointNotFoundError("resume needs a checkpoint store (checkpoints.store)");
  const log = o.log ?? modelsLogger("train");
  const good = await o.checkpoints.store.latestGood(o.checkpoints.run, o.checkpoints.stage);
  for (const r of good?.rejected ?? []) log.warn({ step: r.ref.step, code: r.code, error: r.error }, "refused a bad checkpoint; using an older one");
  if (!good) log.warn({ run: o.checkpoints.run, stage: o.checkpoints.stage, location: o.checkpoints.store.location }, "no checkpoint to resume from: starting fresh");
  return good?.checkpoint ?? null;
}

/** The trainer options that come straight from RunOptions; `files` go with every checkpoint (the tokenizer's). */
export function loopOptions(o: RunOptions, config: JsonValue, files?: ReadonlyMap<string, Uint8Array>) {
  return {
    steps: o.steps,
    ...(o.accumulate !== undefined ? { accumulate: o.accumulate } : {}),
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    ...(o.warmupSteps !== undefined ? { warmupSteps: o.warmupSteps } : {}),
    ...(o.minLr !== undefined ? { minLr: o.minLr } : {}),
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
    ...(o.betas !== undefined ? { betas: o.betas } : {}),
    ...(o.clipNorm !== undefined ? { clipNorm: o.clipNorm } : {}),
    ...(o.earlyStopping ? { earlyStopping: o.earlyStopping } : {}),
    ...(o.maxSeconds !== undefined ? { maxSeconds: o.maxSeconds } : {}),
    ...(o.checkpoints ? { checkpoints: { ...o.checkpoints, config, ...(files && files.size ? { files } : {}) } } : {}),
    ...(o.onStep ? { onStep: o.onStep } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.dataParallel ? { gradientSync: o.dataParallel.sync } : {}),
  };
}

export type TrainedModel<R> = R & { readonly model: CausalLM };

/** What every training task returns. `valLoss` is the task's own validation measure. */
export interface TrainResult {
  readonly model: CausalLM;
  readonly spec: ModelSpec;
  readonly steps: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  /** valLoss as bits per byte of the text its targets stand for (compares across tokenizers). */
  readonly valBpb: number;
  readonly tokensPerS: number;
  readonly resumedFrom: number | null;
  readonly checkpoint: CheckpointRef | null;
  readonly skippedSteps: number;
  readonly wallMs: number;
}
