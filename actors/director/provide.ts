// Turns the bare chart into a runnable one: each named actor becomes a fromPromise over one
// StageWork method, and every timer and timestamp reads the one injected clock.
//
// Progress: `trainStage` forwards onProgress calls to the director as `train.progress`
// events (tagged with stage and attempt, so a late report from an aborted attempt is
// ignored). Errors: whatever a StageWork method throws is wrapped in a StageWorkError that
// names the op, stage and attempt.
import { assign, fromPromise } from "xstate";
import { waitUntil, type DirectorClock } from "./clock.js";
import { StageWorkError, isStageWorkError, type WorkOp } from "./errors.js";
import { directorMachine, type DirectorEvent, type WaitInput } from "./machine.js";
import type {
  CheckpointInput,
  CheckpointOutput,
  EvaluateInput,
  EvaluateOutput,
  PrepareInput,
  PrepareOutput,
  RollbackInput,
  StageWork,
  TrainInput,
  TrainOutput,
  TrainProgress,
} from "./work.js";

export interface DirectorDeps {
  readonly work: StageWork;
  readonly clock: DirectorClock;
}

async function call<T>(op: WorkOp, stage: number, attempt: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isStageWorkError(err)) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new StageWorkError(op, stage, attempt, msg, { cause: err });
  }
}

/** The actor implementations the chart names, built from a StageWork and a clock. */
export function directorActors({ work, clock }: DirectorDeps) {
  return {
    prepareStage: fromPromise<PrepareOutput, PrepareInput>(({ input, signal }) =>
      call("prepare", input.stage, input.attempt.attempt, () => work.prepare(input, signal)),
    ),
    trainStage: fromPromise<TrainOutput, TrainInput>(({ input, signal, self }) => {
      const report = (p: TrainProgress) => {
        if (signal.aborted) return;
        const event: DirectorEvent = {
          type: "train.progress",
          stage: input.stage,
          attempt: input.attempt.attempt,
          step: p.step,
          losses: { ...p.losses },
        };
        self._parent?.send(event);
      };
      return call("train", input.stage, input.attempt.attempt, () => work.train(input, report, signal));
    }),
    evaluateStage: fromPromise<EvaluateOutput, EvaluateInput>(({ input, signal }) =>
      call("evaluate", input.stage, input.attempt.attempt, () => work.evaluate(input, signal)),
    ),
    checkpoint: fromPromise<CheckpointOutput, CheckpointInput>(({ input, signal }) =>
      call("checkpoint", input.stage, 0, () => work.checkpoint(input, signal)),
    ),
    rollback: fromPromise<void, RollbackInput>(({ input, signal }) =>
      call("rollback", input.stage, input.attempt, () => work.rollback(input, signal)),
    ),
    wait: fromPromise<void, WaitInput>(({ input, signal }) => waitUntil(clock, input.until, signal)),
  };
}

/** The runnable director chart: `createActor(provideDirector(deps), { input, clock })`. */
export function provideDirector(deps: DirectorDeps) {
  return directorMachine.provide({
    actors: directorActors(deps),
    actions: {
      stamp: assign({ clockAt: () => deps.clock.now() }),
    },
  });
}

export type ProvidedDirectorMachine = ReturnType<typeof provideDirector>;
