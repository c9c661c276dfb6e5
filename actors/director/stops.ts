// How the run ends when it does not pass: one StopRecord with a sentence a user can act on.
// Pure functions of the context; the chart's stop actions call them.
import { currentAttempt, currentRecord, type DirectorContext, type StopKind, type StopRecord } from "./context.js";

/** The stop kinds the cast's placement reports. */
export type CastStopKind = Extract<StopKind, "hosts_missing" | "host_lost" | "placement_failed" | "actor_failed">;
import type { ErrorRecord } from "./errors.js";
import { stageLabel, type StageId } from "./stages.js";

function lastWords(ctx: DirectorContext): string {
  const a = currentAttempt(ctx);
  if (!a) return "no attempt finished";
  if (a.verdict) return a.verdict;
  if (a.error) return a.error.message;
  return a.outcome;
}

export function exhaustedStop(ctx: DirectorContext): StopRecord {
  const attempts = currentRecord(ctx)?.attempts.length ?? ctx.attempt;
  const retries = attempts - 1;
  return {
    kind: "gate_exhausted",
    stage: ctx.stage,
    reason:
      `${stageLabel(ctx.stage)} did not pass its gate after ${attempts} attempt${attempts === 1 ? "" : "s"} ` +
      `(${retries} retr${retries === 1 ? "y" : "ies"}, the budget): ${lastWords(ctx)}. The run stops here; ` +
      `later stages did not run.`,
  };
}

export function notAvailableStop(ctx: DirectorContext, stage: StageId): StopRecord {
  const why = ctx.unavailableReasons[stage] ?? "its work is not built yet (no actor in this cast can run it)";
  return {
    kind: "not_available",
    stage,
    reason: `${stageLabel(stage)} is not available: ${why}. The run stops here instead of skipping it.`,
  };
}

export function runTimeoutStop(ctx: DirectorContext): StopRecord {
  const limit = ctx.plan.runTimeoutMs ?? 0;
  return {
    kind: "run_timeout",
    stage: ctx.stage,
    reason: `the run reached its time limit (limits.run_timeout_s = ${limit / 1000} s) during ${stageLabel(ctx.stage)}`,
  };
}

export function checkpointFailedStop(ctx: DirectorContext, error: ErrorRecord): StopRecord {
  return {
    kind: "checkpoint_failed",
    stage: ctx.stage,
    reason: `${stageLabel(ctx.stage)} could not save its rollback checkpoint (${error.message}); ` +
      `the joint finetune did not start`,
  };
}

export function rollbackFailedStop(ctx: DirectorContext, error: ErrorRecord): StopRecord {
  const id = currentRecord(ctx)?.checkpointId ?? "?";
  return {
    kind: "rollback_failed",
    stage: ctx.stage,
    reason: `${stageLabel(ctx.stage)} failed and rolling back to checkpoint ${id} failed too (${error.message}); ` +
      `the weights may hold the failed joint finetune — restore checkpoint ${id} by hand`,
  };
}

export function rolledBackNote(ctx: DirectorContext): string {
  const id = currentRecord(ctx)?.checkpointId ?? "?";
  const attempts = currentRecord(ctx)?.attempts.length ?? ctx.attempt;
  return `did not improve after ${attempts} attempt${attempts === 1 ? "" : "s"} (${lastWords(ctx)}); ` +
    `rolled back to checkpoint ${id}`;
}

/** Stage 4, stable without improving: why it stays off the critical path. */
export function offPathNote(ctx: DirectorContext): string {
  const a = currentAttempt(ctx);
  return `passed off the critical path: ${a?.verdict ?? "stable, but it did not improve what it was meant to"}; later stages do not use it`;
}

/** The cast on hosts cannot go on (the cast's placement): the reason says which host and why. */
export function castLostStop(ctx: DirectorContext, kind: CastStopKind, reason: string): StopRecord {
  return { kind, stage: ctx.stage, reason: `${stageLabel(ctx.stage)} stopped: ${reason}` };
}

export function notInPlanNote(): string {
  return "the scenario's curriculum does not list this stage";
}
