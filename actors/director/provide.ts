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
  /**
   * Awaited before every StageWork call; the director runtime resolves it once the state that
   * asked for the work is stored, so no work starts that the store does not know about (and a
   * director that lost its compare-and-set never starts any). Optional for bare chart tests.
   */
  readonly ready?: () => Promise<void>;
}

async function call<T>(
  deps: DirectorDeps,
  signal: AbortSignal,
  where: { op: WorkOp; stage: number; attempt: number },
  fn: () => Promise<T>,
): Promise<T> {
  const { op, stage, attempt } = where;
  try {
    if (deps.ready) {
      // The snapshot of the transition that started us is pushed after this tick.
      await Promise.resolve();
      await deps.ready();
    }
    if (signal.aborted) throw signal.reason;
    return await fn();
  } catch (err) {
    if (isStageWorkError(err)) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new StageWorkError(op, stage, attempt, msg, { cause: err });
  }
}

/** The actor implementations the chart names, built from a StageWork and a clock. */
export function directorActors(deps: DirectorDeps) {
  const { work, clock } = deps;
  return {
    prepareStage: fromPromise<PrepareOutput, PrepareInput>(({ input, signal }) =>
      call(deps, signal, { op: "prepare", stage: input.stage, attempt: input.attempt.attempt }, () =>
        work.prepare(input, signal),
      ),
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
      return call(deps, signal, { op: "train", stage: input.stage, attempt: input.attempt.attempt }, () =>
        work.train(input, report, signal),
      );
    }),
    evaluateStage: fromPromise<EvaluateOutput, EvaluateInput>(({ input, signal }) =>
      call(deps, signal, { op: "evaluate", stage: input.stage, attempt: input.attempt.attempt }, () =>
        work.evaluate(input, signal),
      ),
    ),
    checkpoint: fromPromise<CheckpointOutput, CheckpointInput>(({ input, signal }) =>
      call(deps, signal, { op: "checkpoint", stage: input.stage, attempt: 0 }, () => work.checkpoint(input, signal)),
    ),
    rollback: fromPromise<void, RollbackInput>(({ input, signal }) =>
      call(deps, signal, { op: "rollback", stage: input.stage, attempt: input.attempt }, () =>
        work.rollback(input, signal),
      ),
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
