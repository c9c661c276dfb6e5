// The director's context: where the run is, and the per-stage record the run report renders.
// Plain JSON only (see json.ts). The chart's actions are thin wrappers over the pure
// functions here, so the record logic is testable without running a chart.
import { attemptSettings, type AttemptSettings } from "./attempts.js";
import { toErrorRecord, type ErrorRecord } from "./errors.js";
import type { Evidence } from "../../data/mod.js";
import type { GateCheck, GateVerdict } from "./gate.js";
import type { JsonObject } from "./json.js";
import { lambdasFor, type Lambdas } from "./lambdas.js";
import { stagePlan, type CurriculumPlan, type StagePlan } from "./plan.js";
import { LOSS_TERMS, stageInfo, type LossTerm, type ModuleName, type StageId } from "./stages.js";
import type { LossValues, TrainProgress } from "./work.js";

/** Bump when the chart's states or the context's shape change incompatibly. */
export const DIRECTOR_CHART_VERSION = 2;

export interface DirectorInput {
  readonly runId: string;
  readonly plan: CurriculumPlan;
  /** Stages whose work is built and cast in this run, e.g. [0, 1] today. */
  readonly available: readonly StageId[];
  /** Why a stage is not available, for the stop message; a default says "not built yet". */
  readonly unavailableReasons?: Partial<Record<StageId, string>>;
  /** Clock time the run starts at (ms). */
  readonly startedAt: number;
}

export const ATTEMPT_OUTCOMES = ["running", "passed", "passed_off_path", "gate_failed", "error", "timeout"] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface LossSummary {
  readonly first: LossValues | null;
  readonly last: LossValues | null;
  readonly min: LossValues;
  readonly reports: number;
}

export interface AttemptRecord {
  readonly settings: AttemptSettings;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly outcome: AttemptOutcome;
  readonly step: number;
  readonly losses: LossSummary;
  readonly metric: number | null;
  readonly threshold: number | null;
  readonly verdict: string | null;
  readonly error: ErrorRecord | null;
  /** What prepare reported (e.g. placement). */
  readonly prepared: JsonObject | null;
  /** The trainer's checkpoint at the end of training, if it named one. */
  readonly checkpoint: string | null;
  /** What the evaluator reported besides the metric (stage 0: split-layer map, baselines). */
  readonly details: JsonObject | null;
  /** The score against its references (named and trivial), when the gate measured a gain. Absent in records written before it existed. */
  readonly evidence?: Evidence | null;
  /** The gate's required checks as measured. Absent in records written before they existed. */
  readonly checks?: readonly GateCheck[];
  /** Clock time by which prepare + train + evaluate must finish; null = no limit. */
  readonly deadline: number | null;
  /** Times the director resumed from a snapshot while this attempt ran. */
  readonly restarts: number;
}

export const STAGE_STATUSES = ["running", "passed", "passed_off_path", "failed", "omitted", "not_available", "rolled_back"] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export interface StageRecord {
  readonly stage: StageId;
  readonly name: string;
  readonly status: StageStatus;
  readonly trains: readonly ModuleName[];
  readonly lossTerms: readonly LossTerm[];
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly attempts: readonly AttemptRecord[];
  /** Stage 6: the checkpoint a failed joint finetune rolls back to. */
  readonly checkpointId: string | null;
  /** Why a stage was omitted or not available, or how it ended. */
  readonly note: string | null;
}

export const STOP_KINDS = [
  "gate_exhausted",
  "not_available",
  "run_timeout",
  "checkpoint_failed",
  "rollback_failed",
  // the cast on hosts (the cast's placement): hosts never came, a host was lost where its
  // actors may not move, an actor has no host it may run on, an actor's supervisor gave up
  "hosts_missing",
  "host_lost",
  "placement_failed",
  "actor_failed",
] as const;
export type StopKind = (typeof STOP_KINDS)[number];

export interface StopRecord {
  readonly kind: StopKind;
  readonly stage: StageId | null;
  readonly reason: string;
}

export interface ProgressRecord {
  readonly stage: StageId;
  readonly attempt: number;
  readonly step: number;
  readonly steps: number;
  readonly losses: LossValues;
  readonly lambdas: Lambdas;
}

export const RUN_OUTCOMES = ["running", "done", "stopped", "rolled_back"] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export interface DirectorContext {
  readonly version: number;
  readonly outcome: RunOutcome;
  readonly runId: string;
  readonly plan: CurriculumPlan;
  readonly available: readonly StageId[];
  readonly unavailableReasons: Partial<Record<StageId, string>>;
  readonly startedAt: number;
  /** Clock time of the last thing the chart recorded. */
  readonly clockAt: number;
  readonly endedAt: number | null;
  readonly stage: StageId;
  /** Attempt within the current stage, 1-based. */
  readonly attempt: number;
  readonly progress: ProgressRecord | null;
  /** One per stage entered, in order. */
  readonly records: readonly StageRecord[];
  readonly stopped: StopRecord | null;
  /** Clock times at which a director resumed this run from its snapshot. */
  readonly resumes: readonly number[];
}

export function initialContext(input: DirectorInput): DirectorContext {
  return {
    version: DIRECTOR_CHART_VERSION,
    outcome: "running",
    runId: input.runId,
    plan: input.plan,
    available: [...input.available],
    unavailableReasons: { ...(input.unavailableReasons ?? {}) },
    startedAt: input.startedAt,
    clockAt: input.startedAt,
    endedAt: null,
    stage: 0,
    attempt: 1,
    progress: null,
    records: [],
    stopped: null,
    resumes: [],
  };
}

/** The plan of the current stage; the chart only asks while in a listed stage. */
export function currentPlan(ctx: DirectorContext): StagePlan {
  const s = stagePlan(ctx.plan, ctx.stage);
  if (!s) throw new Error(`stage ${ctx.stage} is not in the plan`);
  return s;
}

export function currentSettings(ctx: DirectorContext): AttemptSettings {
  return attemptSettings(currentPlan(ctx), ctx.attempt, ctx.plan.seed);
}

export function currentRecord(ctx: DirectorContext): StageRecord | undefined {
  const r = ctx.records[ctx.records.length - 1];
  return r && r.stage === ctx.stage ? r : undefined;
}

export function currentAttempt(ctx: DirectorContext): AttemptRecord | undefined {
  const r = currentRecord(ctx);
  const a = r?.attempts[r.attempts.length - 1];
  return a && a.settings.attempt === ctx.attempt ? a : undefined;
}

function withRecord(ctx: DirectorContext, fn: (r: StageRecord) => StageRecord): DirectorContext {
  const r = currentRecord(ctx);
  if (!r) return ctx;
  return { ...ctx, records: [...ctx.records.slice(0, -1), fn(r)] };
}

function withAttempt(ctx: DirectorContext, fn: (a: AttemptRecord) => AttemptRecord): DirectorContext {
  return withRecord(ctx, (r) => {
    const a = r.attempts[r.attempts.length - 1];
    if (!a || a.settings.attempt !== ctx.attempt) return r;
    return { ...r, attempts: [...r.attempts.slice(0, -1), fn(a)] };
  });
}

/** Entering `stage`: a fresh record, attempt 1. */
export function enterStage(ctx: DirectorContext, stage: StageId): DirectorContext {
  const s = stagePlan(ctx.plan, stage);
  const record: StageRecord = {
    stage,
    name: stageInfo(stage).name,
    status: "running",
    trains: s ? [...s.trains] : [],
    lossTerms: s ? LOSS_TERMS.filter((t) => s.losses[t] !== undefined) : [],
    startedAt: ctx.clockAt,
    endedAt: null,
    attempts: [],
    checkpointId: null,
    note: null,
  };
  return { ...ctx, stage, attempt: 1, progress: null, records: [...ctx.records, record] };
}

/** Closes the current stage record with a status and note. */
export function closeStage(ctx: DirectorContext, status: StageStatus, note: string | null): DirectorContext {
  return withRecord(ctx, (r) => ({ ...r, status, note, endedAt: ctx.clockAt }));
}

export function startAttempt(ctx: DirectorContext): DirectorContext {
  const timeoutMs = currentPlan(ctx).timeoutMs;
  const a: AttemptRecord = {
    settings: currentSettings(ctx),
    startedAt: ctx.clockAt,
    endedAt: null,
    outcome: "running",
    step: 0,
    losses: { first: null, last: null, min: {}, reports: 0 },
    metric: null,
    threshold: null,
    verdict: null,
    error: null,
    prepared: null,
    checkpoint: null,
    details: null,
    evidence: null,
    checks: [],
    deadline: timeoutMs === null ? null : ctx.clockAt + timeoutMs,
    restarts: 0,
  };
  return withRecord(ctx, (r) => ({ ...r, attempts: [...r.attempts, a] }));
}

export function bumpAttempt(ctx: DirectorContext): DirectorContext {
  return { ...ctx, attempt: ctx.attempt + 1, progress: null };
}

function summarizeLosses(prev: LossSummary, losses: LossValues): LossSummary {
  const min: LossValues = { ...prev.min };
  for (const [k, v] of Object.entries(losses) as [keyof LossValues, number][]) {
    if (typeof v === "number" && Number.isFinite(v) && (min[k] === undefined || v < min[k]!)) min[k] = v;
  }
  return { first: prev.first ?? losses, last: losses, min, reports: prev.reports + 1 };
}

export function recordProgress(ctx: DirectorContext, p: TrainProgress): DirectorContext {
  const plan = currentPlan(ctx);
  const progress: ProgressRecord = {
    stage: ctx.stage,
    attempt: ctx.attempt,
    step: p.step,
    steps: currentSettings(ctx).steps,
    losses: { ...p.losses },
    lambdas: lambdasFor(plan.losses, p.step),
  };
  return withAttempt({ ...ctx, progress }, (a) => ({ ...a, step: p.step, losses: summarizeLosses(a.losses, p.losses) }));
}

export function recordPrepared(ctx: DirectorContext, details: JsonObject | null): DirectorContext {
  return withAttempt(ctx, (a) => ({ ...a, prepared: details }));
}

export function recordTrained(
  ctx: DirectorContext,
  steps: number,
  losses: LossValues | undefined,
  checkpoint: string | null,
): DirectorContext {
  return withAttempt(ctx, (a) => ({
    ...a,
    step: steps,
    checkpoint,
    losses: losses && Object.keys(losses).length > 0 ? summarizeLosses(a.losses, losses) : a.losses,
  }));
}

export function recordVerdict(
  ctx: DirectorContext,
  v: GateVerdict,
  details: JsonObject | null,
  evidence: Evidence | null = null,
  checks: readonly GateCheck[] = [],
  offPath: string | null = null,
): DirectorContext {
  // a stage that may end off the critical path (stage 4) and whose evaluation says it is stable
  // but did not improve: not a failed attempt, and not a pass either
  const off = !v.passed && offPath !== null && stageInfo(ctx.stage).offPath === true;
  return withAttempt(ctx, (a) => ({
    ...a,
    endedAt: ctx.clockAt,
    outcome: v.passed ? "passed" : off ? "passed_off_path" : "gate_failed",
    metric: Number.isFinite(v.metric) ? v.metric : null,
    threshold: v.threshold,
    verdict: off ? `${v.reason}; off the critical path: ${offPath}` : v.reason,
    details,
    // plain JSON in the snapshot: a NaN in the evidence becomes null, as JSON.stringify would
    evidence: evidence ? (JSON.parse(JSON.stringify(evidence)) as Evidence) : null,
    checks: checks.map((c) => ({ name: c.name, ok: c.ok, ...(c.detail !== undefined ? { detail: c.detail } : {}) })),
  }));
}

export function recordFailure(ctx: DirectorContext, outcome: "error" | "timeout", error: unknown): DirectorContext {
  return withAttempt(ctx, (a) => ({ ...a, endedAt: ctx.clockAt, outcome, error: toErrorRecord(error) }));
}

export function recordCheckpoint(ctx: DirectorContext, checkpointId: string): DirectorContext {
  return withRecord(ctx, (r) => ({ ...r, checkpointId }));
}

export function recordResume(ctx: DirectorContext, at: number): DirectorContext {
  const resumed = { ...ctx, clockAt: at, resumes: [...ctx.resumes, at] };
  return withAttempt(resumed, (a) => (a.outcome === "running" ? { ...a, restarts: a.restarts + 1 } : a));
}

export function stopRun(ctx: DirectorContext, stop: StopRecord): DirectorContext {
  return { ...ctx, outcome: "stopped", stopped: stop, progress: null, endedAt: ctx.clockAt };
}

export function finishRun(ctx: DirectorContext, outcome: "done" | "rolled_back"): DirectorContext {
  return { ...ctx, outcome, progress: null, endedAt: ctx.clockAt };
}
