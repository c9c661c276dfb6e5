// What the report and the progress view listen to: a small stream of run events. The
// director observer (observer.ts) derives them from director snapshots; a caller that only
// has a trainer's onProgress can feed `progress` events alone. Plain JSON, discriminated on
// `type`; snake_case like the rest of the report.
import type { RunOutcome, StageStatus, StopKind } from "./context.js";
import type { StageId } from "./stages.js";

/** What an attempt is doing; the director chart's state names, in the order they happen. */
export const PHASES = ["checkpointing", "preparing", "training", "evaluating", "backoff", "rolling_back"] as const;
export type Phase = (typeof PHASES)[number];

/** Loss values by name as reported (may hold NaN; the renderers cope). */
export type ReportedLosses = Readonly<Record<string, number | null | undefined>>;

export interface RunStartedEvent {
  readonly type: "run.started";
  readonly run_id: string;
  /** Stages in the plan, in order. */
  readonly stages: readonly StageId[];
  /** True when a director resumed the run from its snapshot. */
  readonly resumed: boolean;
}

export interface StageStartedEvent {
  readonly type: "stage.started";
  readonly stage: StageId;
  readonly name: string;
  readonly trains: readonly string[];
  readonly gate_metric: string | null;
}

export interface AttemptStartedEvent {
  readonly type: "attempt.started";
  readonly stage: StageId;
  readonly attempt: number;
  readonly max_attempts: number;
  readonly steps: number;
  readonly lr: number | null;
  readonly changes: Readonly<Record<string, number>>;
}

export interface PhaseEvent {
  readonly type: "phase";
  readonly stage: StageId;
  readonly attempt: number;
  readonly phase: Phase;
}

export interface ProgressEvent {
  readonly type: "progress";
  readonly stage: StageId;
  readonly attempt: number;
  /** Steps done in this attempt, and planned. */
  readonly step: number;
  readonly steps: number;
  readonly losses: ReportedLosses;
  /** Tokens processed so far in this attempt, when known (gives tokens/s). */
  readonly tokens?: number | null;
}

export interface AttemptEndedEvent {
  readonly type: "attempt.ended";
  readonly stage: StageId;
  readonly attempt: number;
  /** passed | gate_failed | error | timeout */
  readonly outcome: string;
  readonly metric: number | null;
  readonly threshold: number | null;
  /** The gate's one-line verdict, or the error message. */
  readonly verdict: string | null;
}

export interface StageEndedEvent {
  readonly type: "stage.ended";
  readonly stage: StageId;
  readonly name: string;
  readonly status: StageStatus;
  readonly attempts: number;
  /** The last attempt's verdict, else the stage's note (why skipped / not available). */
  readonly verdict: string | null;
  readonly wall_s: number | null;
}

export interface RunEndedEvent {
  readonly type: "run.ended";
  readonly outcome: RunOutcome;
  readonly wall_s: number;
  readonly stopped: { readonly stage: StageId | null; readonly kind: StopKind; readonly reason: string } | null;
}

export type ReportEvent =
  | RunStartedEvent
  | StageStartedEvent
  | AttemptStartedEvent
  | PhaseEvent
  | ProgressEvent
  | AttemptEndedEvent
  | StageEndedEvent
  | RunEndedEvent;

export type ReportEventType = ReportEvent["type"];
