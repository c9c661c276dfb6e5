// What a bit-exact resume needs besides the tensors: the trainer's position and counters, the
// data sampler's state and the dropout RNG. Plain JSON, stored in the checkpoint manifest.
import { CheckpointFormatError } from "../errors.js";
import type { JsonValue } from "../checkpoint/format.js";
import type { KernelRecord } from "./determinism.js";

export const TRAINER_STATE_VERSION = 1;

export interface EvalPoint {
  readonly step: number;
  readonly loss: number;
}

export interface TrainerState {
  readonly kind: "trainer";
  readonly version: typeof TRAINER_STATE_VERSION;
  /** Optimizer steps done (the next step's index). */
  readonly step: number;
  readonly totalSteps: number;
  /** The batcher's state() (windows or SFT), restored with restore(). */
  readonly data: JsonValue;
  /** The model's dropout seed generator (kernels RngState). */
  readonly dropoutRng: { s: number[]; spare: number | null };
  readonly tokens: number;
  readonly skipped: number;
  readonly nanStreak: number;
  readonly best: EvalPoint | null;
  /** Evaluations since the best one (early stopping). */
  readonly sinceBest: number;
  /** The last (at most 50) training losses, for the reported train loss. */
  readonly recent: number[];
  readonly evals: EvalPoint[];
  /** The compute that produced it: kernels, BLAS (and its kernel family), threads. */
  readonly kernels?: KernelRecord;
}

export function checkTrainerState(raw: unknown, where: string): TrainerState {
  const s = raw as TrainerState | null;
  if (!s || typeof s !== "object" || s.kind !== "trainer") {
    throw new CheckpointFormatError({ checkpoint: where, file: "manifest.json" }, `"state" is not a trainer state`);
  }
  if (s.version !== TRAINER_STATE_VERSION) {
    throw new CheckpointFormatError({ checkpoint: where, file: "manifest.json" }, `trainer state version ${s.version}, this troupe reads ${TRAINER_STATE_VERSION}; resume with the troupe version that wrote it`);
  }
  const ints = [s.step, s.totalSteps, s.tokens, s.skipped, s.nanStreak, s.sinceBest];
  if (!ints.every((v) => Number.isSafeInteger(v) && v >= 0) || !Array.isArray(s.recent) || !Array.isArray(s.evals) || !s.dropoutRng) {
    throw new CheckpointFormatError({ checkpoint: where, file: "manifest.json" }, "the trainer state is incomplete");
  }
  return s;
}
