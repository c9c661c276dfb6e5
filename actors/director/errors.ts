// Errors of the director. Each class sets `name` to the class name and carries a `code`;
// use the predicates, not string matching.

export const DirectorErrorCode = {
  plan: "DIRECTOR_PLAN",
  snapshotConflict: "DIRECTOR_SNAPSHOT_CONFLICT",
  snapshot: "DIRECTOR_SNAPSHOT",
  work: "DIRECTOR_WORK",
  notProvided: "DIRECTOR_NOT_PROVIDED",
  chartFormat: "DIRECTOR_CHART_FORMAT",
  stopped: "DIRECTOR_STOPPED",
} as const;
export type DirectorErrorCode = (typeof DirectorErrorCode)[keyof typeof DirectorErrorCode];

/** A curriculum plan that breaks an invariant (stage order, metric direction, loss homes). */
export class DirectorPlanError extends Error {
  readonly code = DirectorErrorCode.plan;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DirectorPlanError";
  }
}

/**
 * A compare-and-set save lost: the stored revision is not the one this director last saw.
 * Another director owns the run now; this one must stop.
 */
export class SnapshotConflictError extends Error {
  readonly code = DirectorErrorCode.snapshotConflict;
  constructor(
    readonly runId: string,
    readonly expected: number,
    readonly actual: number,
    options?: { cause?: unknown },
  ) {
    super(
      `run ${runId}: snapshot revision is ${actual}, expected ${expected}; another director is writing this run`,
      options,
    );
    this.name = "SnapshotConflictError";
  }
}

/** A persisted snapshot that this director cannot resume (missing, other chart version, corrupt). */
export class DirectorSnapshotError extends Error {
  readonly code = DirectorErrorCode.snapshot;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DirectorSnapshotError";
  }
}

export const WORK_OPS = ["prepare", "train", "evaluate", "checkpoint", "rollback"] as const;
export type WorkOp = (typeof WORK_OPS)[number];

/** A StageWork call failed; wraps what the actor threw. */
export class StageWorkError extends Error {
  readonly code = DirectorErrorCode.work;
  constructor(
    readonly op: WorkOp,
    readonly stage: number,
    readonly attempt: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${op} failed in stage ${stage} attempt ${attempt}: ${message}`, options);
    this.name = "StageWorkError";
  }
}

/** The bare machine was started without its StageWork (use provideDirector). */
export class NotProvidedError extends Error {
  readonly code = DirectorErrorCode.notProvided;
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} is not provided; create the director with provideDirector({ work, clock })`, options);
    this.name = "NotProvidedError";
  }
}

/** The director was stopped (by its owner) before the run reached a final state. */
export class DirectorStoppedError extends Error {
  readonly code = DirectorErrorCode.stopped;
  constructor(readonly runId: string, options?: { cause?: unknown }) {
    super(`the director of run ${runId} was stopped before the run finished; resume it to continue`, options);
    this.name = "DirectorStoppedError";
  }
}

export class ChartFormatError extends Error {
  readonly code = DirectorErrorCode.chartFormat;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChartFormatError";
  }
}

export function isDirectorPlanError(err: unknown): err is DirectorPlanError {
  return err instanceof DirectorPlanError;
}
export function isSnapshotConflictError(err: unknown): err is SnapshotConflictError {
  return err instanceof SnapshotConflictError;
}
export function isDirectorSnapshotError(err: unknown): err is DirectorSnapshotError {
  return err instanceof DirectorSnapshotError;
}
export function isStageWorkError(err: unknown): err is StageWorkError {
  return err instanceof StageWorkError;
}
export function isNotProvidedError(err: unknown): err is NotProvidedError {
  return err instanceof NotProvidedError;
}
export function isDirectorStoppedError(err: unknown): err is DirectorStoppedError {
  return err instanceof DirectorStoppedError;
}
export function isChartFormatError(err: unknown): err is ChartFormatError {
  return err instanceof ChartFormatError;
}

/** A JSON-safe description of any thrown value, for the run record. */
export interface ErrorRecord {
  readonly name: string;
  readonly code: string | null;
  readonly message: string;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, code: typeof code === "string" ? code : null, message: err.message };
  }
  return { name: "Error", code: null, message: typeof err === "string" ? err : JSON.stringify(err) ?? String(err) };
}
