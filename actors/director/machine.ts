// The curriculum statechart: stages 0 → 6 → done, one xstate v5 machine.
//
//   stageN: entering ─┬─ not in plan ──────────────▶ omitted (final) ──▶ stageN+1
//                     ├─ not available ────────────▶ notAvailable ──▶ #stopped
//                     └─ (stage 6: checkpointing ─▶) preparing ─▶ training ─▶ evaluating ─▶ gate
//   gate ─┬─ passed ─▶ passed (final) ──▶ stageN+1 (stage 6: done)
//         ├─ stable, not improving (stage 4) ─▶ passedOffPath (final) ──▶ stageN+1
//         └─ failed ─▶ failed ─┬─ retries left ─▶ backoff ─▶ preparing (attempt + 1)
//                              └─ exhausted ────▶ #stopped (stage 6: rollingBack ─▶ #rolledBack)
//
// Any error in prepare/train/evaluate, or the attempt deadline passing, is a failed attempt.
// The chart names its actors, guards and actions; I/O lives in the actors, which
// provideDirector() builds from a StageWork and a clock. The bare machine cannot run.
import { assign, fromPromise, setup } from "xstate";
import {
  bumpAttempt,
  closeStage,
  currentAttempt,
  currentPlan,
  currentSettings,
  enterStage,
  finishRun,
  initialContext,
  recordCheckpoint,
  recordFailure,
  recordPrepared,
  recordProgress,
  recordResume,
  recordTrained,
  recordVerdict,
  startAttempt,
  stopRun,
  type DirectorContext,
  type DirectorInput,
  type StageStatus,
} from "./context.js";
import { NotProvidedError, toErrorRecord } from "./errors.js";
import { judgeGate } from "./gate.js";
import { maxAttempts } from "./attempts.js";
import { stagePlan } from "./plan.js";
import { stageInfo, stageLabel, type StageId } from "./stages.js";
import {
  checkpointFailedStop,
  exhaustedStop,
  notAvailableStop,
  notInPlanNote,
  offPathNote,
  rollbackFailedStop,
  rolledBackNote,
  runTimeoutStop,
  castLostStop,
  type CastStopKind,
} from "./stops.js";
import { summarizeRun, type RunSummary } from "./summary.js";
import type {
  CheckpointInput,
  CheckpointOutput,
  EvaluateInput,
  EvaluateOutput,
  LossValues,
  PrepareInput,
  PrepareOutput,
  RollbackInput,
  TrainInput,
  TrainOutput,
  WorkInput,
} from "./work.js";

/** Events the director accepts besides its actors' done/error events. */
export type DirectorEvent =
  | { type: "train.progress"; stage: StageId; attempt: number; step: number; losses: LossValues }
  | { type: "director.resumed"; at: number }
  /** the cast on hosts cannot go on (a host lost where its actors may not move, …): stop with a report */
  | { type: "cast.lost"; kind: CastStopKind; reason: string };

/** Input of the `wait` actor: resolve when the clock reaches `until` (null: never). */
export interface WaitInput {
  readonly until: number | null;
}

function unprovided<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new NotProvidedError(`the ${name} actor`);
  });
}

function workInput(ctx: DirectorContext): WorkInput {
  return { runId: ctx.runId, stage: ctx.stage, attempt: currentSettings(ctx), plan: currentPlan(ctx) };
}

function deadline(ctx: DirectorContext): WaitInput {
  return { until: currentAttempt(ctx)?.deadline ?? null };
}

function timeoutError(ctx: DirectorContext): Error {
  const ms = currentPlan(ctx).timeoutMs ?? 0;
  const err = new Error(`attempt ${ctx.attempt} of ${stageLabel(ctx.stage)} timed out after ${ms / 1000} s`);
  err.name = "AttemptTimeout";
  return err;
}

export const directorSetup = setup({
  types: {
    context: {} as DirectorContext,
    events: {} as DirectorEvent,
    input: {} as DirectorInput,
    output: {} as RunSummary,
  },
  actors: {
    prepareStage: unprovided<PrepareOutput, PrepareInput>("prepareStage"),
    trainStage: unprovided<TrainOutput, TrainInput>("trainStage"),
    evaluateStage: unprovided<EvaluateOutput, EvaluateInput>("evaluateStage"),
    checkpoint: unprovided<CheckpointOutput, CheckpointInput>("checkpoint"),
    rollback: unprovided<void, RollbackInput>("rollback"),
    wait: unprovided<void, WaitInput>("wait"),
  },
  guards: {
    stageInPlan: ({ context }) => stagePlan(context.plan, context.stage) !== undefined,
    stageAvailable: ({ context }) => context.available.includes(context.stage),
    attemptPassed: ({ context }) => currentAttempt(context)?.outcome === "passed",
    attemptOffPath: ({ context }) => currentAttempt(context)?.outcome === "passed_off_path",
    retriesLeft: ({ context }) => context.attempt < maxAttempts(currentPlan(context)),
    progressIsCurrent: ({ context, event }) =>
      event.type === "train.progress" && event.stage === context.stage && event.attempt === context.attempt,
  },
  actions: {
    /** Reads the injected clock into context.clockAt; replaced by provideDirector. */
    stamp: () => {
      throw new NotProvidedError("the director's clock");
    },
    enterStage: assign(({ context }, params: { stage: StageId }) => enterStage(context, params.stage)),
    closeStage: assign(({ context }, params: { status: StageStatus }) => closeStage(context, params.status, null)),
    omitStage: assign(({ context }) => closeStage(context, "omitted", notInPlanNote())),
    closeOffPath: assign(({ context }) => closeStage(context, "passed_off_path", offPathNote(context))),
    startAttempt: assign(({ context }) => startAttempt(context)),
    bumpAttempt: assign(({ context }) => bumpAttempt(context)),
    recordProgress: assign(({ context, event }) =>
      event.type === "train.progress" ? recordProgress(context, event) : context,
    ),
    recordTrained: assign(({ context }, out: TrainOutput | undefined) =>
      recordTrained(context, out?.steps ?? currentSettings(context).steps, out?.losses, out?.checkpoint ?? null),
    ),
    recordPrepared: assign(({ context }, out: PrepareOutput | undefined) => recordPrepared(context, out?.details ?? null)),
    recordEvaluation: assign(({ context }, out: EvaluateOutput | undefined) => {
      const extra = { evidence: out?.evidence ?? null, checks: out?.checks ?? [], metricCi: out?.metricCi ?? null };
      const verdict = judgeGate(currentPlan(context).gate, out?.metric ?? Number.NaN, out?.threshold, extra);
      return recordVerdict(context, verdict, out?.details ?? null, extra.evidence, extra.checks, out?.offPath ?? null);
    }),
    recordError: assign(({ context }, params: { error: unknown }) => recordFailure(context, "error", params.error)),
    recordTimeout: assign(({ context }) => recordFailure(context, "timeout", timeoutError(context))),
    recordCheckpoint: assign(({ context }, out: CheckpointOutput | undefined) =>
      recordCheckpoint(context, String(out?.checkpointId ?? "")),
    ),
    recordResume: assign(({ context, event }) =>
      event.type === "director.resumed" ? recordResume(context, event.at) : context,
    ),
    stopExhausted: assign(({ context }) => {
      const stop = exhaustedStop(context);
      return stopRun(closeStage(context, "failed", stop.reason), stop);
    }),
    stopNotAvailable: assign(({ context }) => {
      const stop = notAvailableStop(context, context.stage);
      return stopRun(closeStage(context, "not_available", stop.reason), stop);
    }),
    stopRunTimeout: assign(({ context }) => {
      const running = currentAttempt(context)?.outcome === "running";
      const failed = running ? recordFailure(context, "timeout", new Error("run time limit reached")) : context;
      const stop = runTimeoutStop(context);
      return stopRun(closeStage(failed, "failed", stop.reason), stop);
    }),
    stopCastLost: assign(({ context, event }) => {
      if (event.type !== "cast.lost") return context;
      const stop = castLostStop(context, event.kind, event.reason);
      const running = currentAttempt(context)?.outcome === "running";
      const failed = running ? recordFailure(context, "error", new Error(stop.reason)) : context;
      return stopRun(closeStage(failed, "failed", stop.reason), stop);
    }),
    stopCheckpointFailed: assign(({ context }, params: { error: unknown }) => {
      const stop = checkpointFailedStop(context, toErrorRecord(params.error));
      return stopRun(closeStage(context, "failed", stop.reason), stop);
    }),
    stopRollbackFailed: assign(({ context }, params: { error: unknown }) => {
      const stop = rollbackFailedStop(context, toErrorRecord(params.error));
      return stopRun(closeStage(context, "failed", stop.reason), stop);
    }),
    finishRolledBack: assign(({ context }) => finishRun(closeStage(context, "rolled_back", rolledBackNote(context)), "rolled_back")),
    finishDone: assign(({ context }) => finishRun(context, "done")),
  },
});

/** The states every stage has; stage 6 adds checkpointing and rollingBack. */
function stageNode(stage: StageId) {
  const joint = stage === 6;
  const offPath = stageInfo(stage).offPath === true;
  const timer = {
    id: "attemptDeadline",
    src: "wait",
    input: ({ context }: { context: DirectorContext }) => deadline(context),
    onDone: { target: "failed", actions: ["stamp", "recordTimeout"] },
  } as const;
  const recordError = { type: "recordError", params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) } as const;
  return directorSetup.createStateConfig({
    entry: ["stamp", { type: "enterStage", params: { stage } }],
    initial: "entering",
    states: {
      entering: {
        always: [
          { guard: { type: "stageInPlan" }, target: "checkAvailable" },
          { target: "omitted", actions: "omitStage" },
        ],
      },
      checkAvailable: {
        always: [
          { guard: { type: "stageAvailable" }, target: joint ? "checkpointing" : "preparing" },
          { target: "notAvailable" },
        ],
      },
      omitted: { type: "final" },
      notAvailable: { always: { target: "#director.stopped", actions: "stopNotAvailable" } },
      ...(joint
        ? {
            checkpointing: {
              invoke: {
                id: "checkpoint",
                src: "checkpoint",
                input: ({ context }) => ({ runId: context.runId, stage: context.stage, purpose: "rollback" as const }),
                onDone: {
                  target: "preparing",
                  actions: ["stamp", { type: "recordCheckpoint", params: ({ event }) => event.output }],
                },
                onError: {
                  target: "#director.stopped",
                  actions: ["stamp", { type: "stopCheckpointFailed", params: ({ event }) => ({ error: event.error }) }],
                },
              },
            },
          }
        : {}),
      preparing: {
        entry: "startAttempt",
        invoke: [
          {
            id: "prepare",
            src: "prepareStage",
            input: ({ context }) => workInput(context),
            onDone: { target: "training", actions: ["stamp", { type: "recordPrepared", params: ({ event }) => event.output }] },
            onError: { target: "failed", actions: ["stamp", recordError] },
          },
          timer,
        ],
      },
      training: {
        invoke: [
          {
            id: "train",
            src: "trainStage",
            input: ({ context }) => ({ ...workInput(context), schedule: currentPlan(context).losses }),
            onDone: { target: "evaluating", actions: ["stamp", { type: "recordTrained", params: ({ event }) => event.output }] },
            onError: { target: "failed", actions: ["stamp", recordError] },
          },
          timer,
        ],
        on: {
          "train.progress": { guard: "progressIsCurrent", actions: ["stamp", "recordProgress"] },
        },
      },
      evaluating: {
        invoke: [
          {
            id: "evaluate",
            src: "evaluateStage",
            input: ({ context }) => ({ ...workInput(context), gate: currentPlan(context).gate }),
            onDone: { target: "gate", actions: ["stamp", { type: "recordEvaluation", params: ({ event }) => event.output }] },
            onError: { target: "failed", actions: ["stamp", recordError] },
          },
          timer,
        ],
      },
      gate: {
        always: [
          { guard: "attemptPassed", target: "passed", actions: { type: "closeStage", params: { status: "passed" } } },
          ...(offPath ? [{ guard: "attemptOffPath", target: "passedOffPath", actions: "closeOffPath" } as const] : []),
          { target: "failed" },
        ],
      },
      failed: {
        always: joint
          ? { target: "rollingBack" }
          : [{ guard: "retriesLeft", target: "backoff" }, { target: "#director.stopped", actions: "stopExhausted" }],
      },
      ...(joint
        ? {
            rollingBack: {
              invoke: {
                id: "rollback",
                src: "rollback",
                input: ({ context }) => ({
                  runId: context.runId,
                  stage: context.stage,
                  checkpointId: context.records[context.records.length - 1]?.checkpointId ?? "",
                  attempt: context.attempt,
                }),
                onDone: [
                  { guard: "retriesLeft", target: "backoff", actions: "stamp" },
                  { target: "#director.rolledBack", actions: ["stamp", "finishRolledBack"] },
                ],
                onError: {
                  target: "#director.stopped",
                  actions: ["stamp", { type: "stopRollbackFailed", params: ({ event }) => ({ error: event.error }) }],
                },
              },
            },
          }
        : {}),
      backoff: {
        invoke: {
          id: "backoff",
          src: "wait",
          input: ({ context }) => ({ until: context.clockAt + currentPlan(context).retry.backoffMs }),
          onDone: { target: "preparing", actions: ["stamp", "bumpAttempt"] },
        },
      },
      passed: { type: "final" },
      ...(offPath ? { passedOffPath: { type: "final" } as const } : {}),
    },
  } as const);
}

/** The bare director chart. Run it through provideDirector(); its actors are placeholders. */
export const directorMachine = directorSetup.createMachine({
  id: "director",
  context: ({ input }) => initialContext(input),
  invoke: {
    id: "runLimit",
    src: "wait",
    input: ({ context }) => ({
      until: context.plan.runTimeoutMs === null ? null : context.startedAt + context.plan.runTimeoutMs,
    }),
    onDone: { target: ".stopped", actions: ["stamp", "stopRunTimeout"] },
  },
  on: {
    "director.resumed": { actions: "recordResume" },
    "cast.lost": { target: ".stopped", actions: ["stamp", "stopCastLost"] },
  },
  initial: "stage0",
  states: {
    stage0: { ...stageNode(0), onDone: "stage1" },
    stage1: { ...stageNode(1), onDone: "stage2" },
    stage2: { ...stageNode(2), onDone: "stage3" },
    stage3: { ...stageNode(3), onDone: "stage4" },
    stage4: { ...stageNode(4), onDone: "stage5" },
    stage5: { ...stageNode(5), onDone: "stage6" },
    stage6: { ...stageNode(6), onDone: { target: "done" } },
    done: { type: "final", entry: ["stamp", "finishDone"] },
    stopped: { type: "final" },
    rolledBack: { type: "final" },
  },
  output: ({ context }) => summarizeRun(context),
});

export type DirectorMachine = typeof directorMachine;
