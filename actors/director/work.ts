// The seam between the curriculum chart and the actors that do the work. The chart invokes
// five named promise actors (prepareStage, trainStage, evaluateStage, checkpoint, rollback);
// provideDirector() builds them from one StageWork object. Today tests pass stubs; the NATS
// runtime implements StageWork with request/reply calls to the trainer, teacher and
// evaluator actors.
//
// Contract for implementers:
// - Every call gets an AbortSignal and must stop promptly (reject) when it aborts: the chart
//   aborts work when it leaves a state (attempt timeout, run limit, director stopping).
// - Every call may be repeated with the same input after a director restart: a director
//   resumed from its snapshot restarts the call that was in flight. `train` must resume from
//   the trainer's last checkpoint of (runId, stage, attempt.attempt), not start over, and
//   keep reporting steps from where it is.
// - A rejection counts as a failed attempt (retried within the stage's budget), except in
//   `checkpoint` and `rollback`, where it stops the run.
// - Inputs and outputs are plain JSON.
import type { Evidence } from "../../data/mod.js";
import type { AttemptSettings } from "./attempts.js";
import type { GateCheck } from "./gate.js";
import type { JsonObject } from "./json.js";
import type { GatePlan, LossSchedule, StagePlan } from "./plan.js";
import type { LossTerm, StageId } from "./stages.js";

/** Loss values by term, plus `total` (the composite L). */
export type LossValues = Partial<Record<LossTerm | "total", number>>;

/** What every call knows about where the run is. */
export interface WorkInput {
  readonly runId: string;
  readonly stage: StageId;
  /** Attempt number, max attempts, and what this retry changed (lr, steps, seed). */
  readonly attempt: AttemptSettings;
  /** The stage as planned (modules, layers, lanes, losses, gate, retry policy). */
  readonly plan: StagePlan;
}

export type PrepareInput = WorkInput;
export interface PrepareOutput {
  /** Anything worth keeping in the record (e.g. which hosts got which role). */
  readonly details?: JsonObject;
}

export interface TrainInput extends WorkInput {
  /** The stage's loss terms; λ at step k is lambdasFor(schedule, k). */
  readonly schedule: LossSchedule;
}

/** Reported by `train` as it goes; the director keeps the last one and a summary. */
export interface TrainProgress {
  /** Steps done so far in this attempt (0..attempt.steps). */
  readonly step: number;
  readonly losses: LossValues;
}

export interface TrainOutput {
  /** Steps actually run. */
  readonly steps: number;
  /** Final losses (optional if the last progress already said them). */
  readonly losses?: LossValues;
  /** Id of the checkpoint the trainer saved at the end, if any. */
  readonly checkpoint?: string | null;
}

export interface EvaluateInput extends WorkInput {
  readonly gate: GatePlan;
}

export interface EvaluateOutput {
  /** Value of `gate.metric`. */
  readonly metric: number;
  /** A threshold the evaluator measured (e.g. the base model's score); used when the plan has none. */
  readonly threshold?: number | null;
  /**
   * The score against its references on the same held-out items (data/evidence). Required when
   * the metric is a gain over the best reference (METRICS[…].against); `metric` must equal its gain.
   */
  readonly evidence?: Evidence;
  /** Conditions the gate requires besides the metric (stage 0: record complete, split layer found). */
  readonly checks?: readonly GateCheck[];
  /** The metric's own 95 % interval; a gate planned `on: interval` is judged on its far end. */
  readonly metricCi?: readonly [number, number] | null;
  /**
   * Stage 4: the stage is stable but did not improve (why, in a sentence). A failed gate then
   * ends the stage `passed_off_path` — it stays off the critical path — instead of a retry.
   */
  readonly offPath?: string | null;
  /** Everything else worth reporting (stage 0: the split-layer map and baseline metrics). */
  readonly details?: JsonObject;
}

export interface CheckpointInput {
  readonly runId: string;
  readonly stage: StageId;
  /** Why the checkpoint is taken ("rollback"). */
  readonly purpose: "rollback";
}
export interface CheckpointOutput {
  readonly checkpointId: string;
}

export interface RollbackInput {
  readonly runId: string;
  readonly stage: StageId;
  readonly checkpointId: string;
  /** The attempt whose changes are undone. */
  readonly attempt: number;
}

export type ProgressListener = (progress: TrainProgress) => void;

/** Everything the curriculum needs from the cast. One object; the chart gets it by provide(). */
export interface StageWork {
  /** Place and warm up the actors the stage needs (load weights, freeze the base, build heads). */
  prepare(input: PrepareInput, signal: AbortSignal): Promise<PrepareOutput>;
  /** Train for input.attempt.steps steps; call onProgress as steps complete. */
  train(input: TrainInput, onProgress: ProgressListener, signal: AbortSignal): Promise<TrainOutput>;
  /** Measure the stage's gate metric on its held-out lane. */
  evaluate(input: EvaluateInput, signal: AbortSignal): Promise<EvaluateOutput>;
  /** Save the weights before stage 6 so a failed joint finetune can be undone. */
  checkpoint(input: CheckpointInput, signal: AbortSignal): Promise<CheckpointOutput>;
  /** Restore the weights saved by `checkpoint`. */
  rollback(input: RollbackInput, signal: AbortSignal): Promise<void>;
}
