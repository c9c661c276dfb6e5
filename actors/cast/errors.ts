// Errors of the cast runtime: the run's spec in KV, stage jobs, lanes, and what the owner of a
// run reports. Each carries a code; the predicates below are what callers test.

export const CastErrorCode = {
  spec: "CAST_SPEC",
  lane: "CAST_LANE",
  job: "CAST_JOB",
  cancelled: "CAST_CANCELLED",
  record: "CAST_RECORD",
  run: "CAST_RUN",
} as const;
export type CastErrorCode = (typeof CastErrorCode)[keyof typeof CastErrorCode];

export class CastError extends Error {
  readonly code: CastErrorCode;
  constructor(code: CastErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CastError";
    this.code = code;
  }
}

/** The run's spec is missing from KV, or does not describe what the stage needs. */
export class CastSpecError extends CastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CastErrorCode.spec, message, options);
    this.name = "CastSpecError";
  }
}

/** A data lane cannot be built (unknown lane, unsupported kind, too few examples). */
export class LaneError extends CastError {
  readonly lane: string;
  constructor(lane: string, message: string, options?: { cause?: unknown }) {
    super(CastErrorCode.lane, `data lane "${lane}": ${message}`, options);
    this.name = "LaneError";
    this.lane = lane;
  }
}

/** A stage job ended in failure on the trainer (its error is in the message). */
export class JobFailedError extends CastError {
  readonly jobId: string;
  constructor(jobId: string, message: string, options?: { cause?: unknown }) {
    super(CastErrorCode.job, `job ${jobId} failed: ${message}`, options);
    this.name = "JobFailedError";
    this.jobId = jobId;
  }
}

/** A stage job was cancelled (the director aborted the attempt). */
export class JobCancelledError extends CastError {
  readonly jobId: string;
  constructor(jobId: string, reason: string) {
    super(CastErrorCode.cancelled, `job ${jobId} was cancelled: ${reason}`);
    this.name = "JobCancelledError";
    this.jobId = jobId;
  }
}

/** What a stage stored is incomplete or unreadable (e.g. the stage-0 baseline record). */
export class StageRecordError extends CastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CastErrorCode.record, message, options);
    this.name = "StageRecordError";
  }
}

/** The run could not be started or watched (owner side). */
export class CastRunError extends CastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(CastErrorCode.run, message, options);
    this.name = "CastRunError";
  }
}

export function isCastError(err: unknown): err is CastError {
  return err instanceof CastError;
}
export function isCastSpecError(err: unknown): err is CastSpecError {
  return err instanceof CastSpecError;
}
export function isLaneError(err: unknown): err is LaneError {
  return err instanceof LaneError;
}
export function isJobFailedError(err: unknown): err is JobFailedError {
  return err instanceof JobFailedError;
}
export function isJobCancelledError(err: unknown): err is JobCancelledError {
  return err instanceof JobCancelledError;
}
export function isStageRecordError(err: unknown): err is StageRecordError {
  return err instanceof StageRecordError;
}
export function isCastRunError(err: unknown): err is CastRunError {
  return err instanceof CastRunError;
}
