// A scripted StageWork for statechart tests: every call is logged, every call honours its
// abort signal, and each op's behaviour can be replaced per test. No timers: time only moves
// when a test advances the SimulatedClock.
import { METRICS } from "../../../actors/director/mod.js";
import type {
  CheckpointInput,
  EvaluateInput,
  EvaluateOutput,
  PrepareInput,
  ProgressListener,
  RollbackInput,
  StageWork,
  TrainInput,
  TrainOutput,
} from "../../../actors/director/mod.js";

export type Call =
  | { op: "prepare"; stage: number; attempt: number; input: PrepareInput }
  | { op: "train"; stage: number; attempt: number; input: TrainInput }
  | { op: "evaluate"; stage: number; attempt: number; input: EvaluateInput }
  | { op: "checkpoint"; stage: number; attempt: 0; input: CheckpointInput }
  | { op: "rollback"; stage: number; attempt: number; input: RollbackInput };

export interface FakeWork extends StageWork {
  readonly calls: Call[];
  /** Calls whose signal was aborted, as "op:stage:attempt". */
  readonly aborted: string[];
  /** Metric the evaluator reports for (stage, attempt); default: exactly the plan's threshold. */
  metric: (stage: number, attempt: number, input: EvaluateInput) => number;
  prepareImpl: (input: PrepareInput, signal: AbortSignal) => Promise<void>;
  trainImpl: (input: TrainInput, onProgress: ProgressListener, signal: AbortSignal) => Promise<TrainOutput>;
  evaluateImpl: ((input: EvaluateInput, signal: AbortSignal) => Promise<EvaluateOutput>) | null;
  checkpointImpl: (input: CheckpointInput) => Promise<string>;
  rollbackImpl: (input: RollbackInput) => Promise<void>;
  count(op: Call["op"], stage?: number): number;
  /** The train calls (of one stage), in order. */
  trains(stage?: number): Extract<Call, { op: "train" }>[];
}

/** Resolves never; rejects when the signal aborts. */
export function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A comparison whose gain is `gain`: a score against one trivial reference (values only, no items). */
export function fakeEvidence(gain: number): NonNullable<EvaluateOutput["evidence"]> {
  const ref = { name: "constant", kind: "trivial" as const, value: 0.25, correct: 25, ci: [0.17, 0.35] as const };
  return {
    measure: "fake accuracy",
    n: 100,
    level: 0.95,
    score: { name: "model", value: 0.25 + gain, correct: 25, ci: [0, 1] },
    references: [ref],
    against: "constant",
    gain,
    gain_ci: [gain - 0.1, gain + 0.1],
    method: "scripted",
  };
}

/** An evaluation reporting `metric`; a gain over the best reference comes with its comparison, as the director requires. */
export function evaluation(input: EvaluateInput, metric: number): EvaluateOutput {
  return { metric, ...(METRICS[input.gate.metric]?.against ? { evidence: fakeEvidence(metric) } : {}) };
}

export function createFakeWork(): FakeWork {
  const fake: FakeWork = {
    calls: [],
    aborted: [],
    metric: (_s, _a, input) => input.gate.threshold ?? 0,
    prepareImpl: async () => {},
    trainImpl: async (input, onProgress) => {
      const steps = input.attempt.steps;
      for (const step of [Math.ceil(steps / 2), steps]) {
        onProgress({ step, losses: { total: 2 / (1 + step), sft: 1 / (1 + step) } });
      }
      return { steps, losses: { total: 2 / (1 + steps) }, checkpoint: `ckpt-train-${input.stage}-${input.attempt.attempt}` };
    },
    evaluateImpl: null,
    checkpointImpl: async (input) => `ckpt-${input.runId}-stage${input.stage}`,
    rollbackImpl: async () => {},
    trains(stage) {
      return fake.calls.flatMap((c) => (c.op === "train" && (stage === undefined || c.stage === stage) ? [c] : []));
    },
    count(op, stage) {
      return fake.calls.filter((c) => c.op === op && (stage === undefined || c.stage === stage)).length;
    },
    async prepare(input, signal) {
      fake.calls.push({ op: "prepare", stage: input.stage, attempt: input.attempt.attempt, input });
      watch(signal, `prepare:${input.stage}:${input.attempt.attempt}`);
      await fake.prepareImpl(input, signal);
      return { details: { hosts: ["local"] } };
    },
    async train(input, onProgress, signal) {
      fake.calls.push({ op: "train", stage: input.stage, attempt: input.attempt.attempt, input });
      watch(signal, `train:${input.stage}:${input.attempt.attempt}`);
      return fake.trainImpl(input, onProgress, signal);
    },
    async evaluate(input, signal) {
      fake.calls.push({ op: "evaluate", stage: input.stage, attempt: input.attempt.attempt, input });
      watch(signal, `evaluate:${input.stage}:${input.attempt.attempt}`);
      if (fake.evaluateImpl) return fake.evaluateImpl(input, signal);
      return { ...evaluation(input, fake.metric(input.stage, input.attempt.attempt, input)), details: { stage: input.stage } };
    },
    async checkpoint(input) {
      fake.calls.push({ op: "checkpoint", stage: input.stage, attempt: 0, input });
      return { checkpointId: await fake.checkpointImpl(input) };
    },
    async rollback(input) {
      fake.calls.push({ op: "rollback", stage: input.stage, attempt: input.attempt, input });
      await fake.rollbackImpl(input);
    },
  };
  function watch(signal: AbortSignal, key: string) {
    signal.addEventListener("abort", () => fake.aborted.push(key), { once: true });
  }
  return fake;
}
