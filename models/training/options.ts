// The trainer loop's options, checked up front with messages that name the option.
import type { Tensor } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import type { ResumableBatcher, TokenBatch } from "../../data/mod.js";
import type { Checkpoint, CheckpointStore, JsonValue } from "../checkpoint/mod.js";
import { ModelConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { GradientSync } from "./sync.js";

export interface StepRecord {
  /** Steps done, 1-based: the record of the first step has step 1. */
  readonly step: number;
  /** Token-weighted mean training loss of this step's micro-batches (NaN/Inf when skipped). */
  readonly loss: number;
  readonly lr: number;
  /** Global gradient 2-norm before clipping. */
  readonly gradNorm: number;
  /** True when the NaN/Inf guard skipped the update. */
  readonly skipped: boolean;
  readonly tokens: number;
}

export interface TrainProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  /** Mean of the recent training losses. */
  readonly trainLoss: number;
  readonly valLoss: number | null;
  readonly lr: number;
  readonly tokensPerS: number;
  readonly elapsedMs: number;
}

export interface EvalOptions {
  /** Evaluate every this many steps (and after the last one). */
  readonly every: number;
  /** Fixed evaluation batches (token-weighted CE), or a function returning a loss. */
  readonly batches?: readonly TokenBatch[];
  readonly fn?: (model: CausalLM) => number;
}

export interface TrainerOptions {
  readonly model: CausalLM;
  readonly batches: ResumableBatcher<unknown>;
  /** Total optimizer steps (a resumed run continues up to this). */
  readonly steps: number;
  /** Micro-batches per optimizer step (gradient accumulation, token-weighted). Default 1. */
  readonly accumulate?: number;
  readonly lr?: number;
  /** Default 0: no decay. Linear warm-up, then cosine to minLr at `steps`. */
  readonly warmupSteps?: number;
  readonly minLr?: number;
  /** AdamW decoupled weight decay on weight matrices (not biases, norms). Default 0.01. */
  readonly weightDecay?: number;
  readonly betas?: readonly [number, number];
  /** Clip the global gradient norm to this (default 1; null: no clipping). */
  readonly clipNorm?: number | null;
  readonly evaluate?: EvalOptions;
  /** Stop when `patience` evaluations in a row did not beat the best by minDelta. */
  readonly earlyStopping?: { readonly patience: number; readonly minDelta?: number; readonly restoreBest?: boolean };
  /** Skip updates with a NaN/Inf loss or gradient; stop after this many in a row (default 5). */
  readonly maxNonFiniteSteps?: number;
  readonly checkpoints?: {
    readonly store: CheckpointStore;
    readonly run: string;
    readonly stage: string;
    /** Save every this many steps (and at the end). 0: only at the end. */
    readonly every: number;
    /** Step checkpoints to keep (default 3). */
    readonly keep?: number;
    /** How to rebuild the model (GPT config, adapter, data description); stored in the manifest. */
    readonly config: JsonValue;
    /** Also keep the best evaluation as a "best" checkpoint (default true with evaluate). */
    readonly best?: boolean;
    /** Files stored with every checkpoint (the model's tokenizer). */
    readonly files?: ReadonlyMap<string, Uint8Array>;
  };
  /** Resume from this checkpoint (model, optimizer, data position, RNG, counters). */
  readonly resume?: Checkpoint | null;
  /** The loss of one micro-batch (default: the model's next-token cross-entropy). */
  readonly loss?: (model: CausalLM, idx: Tensor, targets: Tensor) => Tensor;
  readonly onStep?: (r: StepRecord) => void;
  readonly onProgress?: (p: TrainProgress) => void;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  /** Data-parallel training: sums gradients over a group each step (hosts/thunder). */
  readonly gradientSync?: GradientSync;
}

function posInt(key: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ModelConfigError(key, `expected a positive integer, got ${v}`);
  return v;
}

function nonNeg(key: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ModelConfigError(key, `expected a non-negative number, got ${v}`);
  return v;
}

export interface ResolvedTrainer {
  readonly steps: number;
  readonly accumulate: number;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly minLr: number;
  readonly weightDecay: number;
  readonly clipNorm: number | null;
  readonly maxNonFiniteSteps: number;
  readonly keep: number;
}

export function resolveTrainer(o: TrainerOptions): ResolvedTrainer {
  const steps = posInt("train.steps", o.steps);
  const lr = nonNeg("train.lr", o.lr ?? 1e-3);
  const r: ResolvedTrainer = {
    steps,
    accumulate: posInt("train.accumulate", o.accumulate ?? 1),
    lr,
    warmupSteps: nonNeg("train.warmupSteps", o.warmupSteps ?? 0),
    minLr: nonNeg("train.minLr", o.minLr ?? lr),
    weightDecay: nonNeg("train.weightDecay", o.weightDecay ?? 0.01),
    clipNorm: o.clipNorm === null ? null : nonNeg("train.clipNorm", o.clipNorm ?? 1),
    maxNonFiniteSteps: posInt("train.maxNonFiniteSteps", o.maxNonFiniteSteps ?? 5),
    keep: posInt("train.checkpoints.keep", o.checkpoints?.keep ?? 3),
  };
  if (!Number.isInteger(r.warmupSteps)) throw new ModelConfigError("train.warmupSteps", `expected an integer, got ${r.warmupSteps}`);
  if (o.evaluate) {
    posInt("train.evaluate.every", o.evaluate.every);
    if (!o.evaluate.batches && !o.evaluate.fn) throw new ModelConfigError("train.evaluate", "give batches or fn");
  }
  if (o.earlyStopping) {
    posInt("train.earlyStopping.patience", o.earlyStopping.patience);
    if (!o.evaluate) throw new ModelConfigError("train.earlyStopping", "early stopping needs evaluate");
  }
  if (o.checkpoints && (!Number.isSafeInteger(o.checkpoints.every) || o.checkpoints.every < 0)) {
    throw new ModelConfigError("train.checkpoints.every", `expected a non-negative integer, got ${o.checkpoints.every}`);
  }
  return r;
}
