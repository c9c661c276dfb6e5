// A realistic synthetic run for the report tests (and for looking at report.html by eye):
// the real director chart on a SimulatedClock with a scripted StageWork. Stage 0 records the
// baseline, stage 1's first attempt (lr too high) goes noisy, hits NaN and fails its gate, the
// retry (lr ×0.5, steps ×1.5, reseeded) passes; stage 2 is not available, so the run stops.
// A few hundred loss points per attempt; deterministic (seeded PRNG, simulated time).
import { SimulatedClock } from "xstate";
import {
  createMemorySnapshotStore,
  startDirector,
  type CurriculumPlan,
  type DirectorContext,
  type EvaluateOutput,
  type RunSummary,
  type StagePlan,
  type StageWork,
  createDirectorObserver,
  createLossRecorder,
  type LossRecorder,
  type ReportEvent,
} from "../../actors/director/mod.js";
import { configDigest } from "../../actors/cast/mod.js";
import { buildReport, type ProgressView, type RunReport } from "../../report/mod.js";
import { compareAgainstReferences } from "../../data/mod.js";
import { prng } from "./prng.js";

const retry = (max: number) => ({ max, backoffMs: 5000, change: { lrMult: 0.5, stepsMult: 1.5, reseed: true } });

function stagePlanOf(stage: 0 | 1 | 2): StagePlan {
  const base = { layers: [] as number[], batch: 16, lane: "sft", evalLane: "heldout", timeoutMs: null, codecs: [] as string[], bitratePenalty: null };
  if (stage === 0) {
    return { ...base, stage, trains: [], layers: [1, 2, 3, 4], steps: 20, lr: null, losses: {}, gate: { metric: "base_em_gain", direction: "higher", threshold: 0.1 }, retry: retry(0) };
  }
  if (stage === 1) {
    return { ...base, stage, trains: ["lora"], steps: 300, lr: 3e-4, losses: { sft: { weight: 1, ramp: { kind: "none", steps: 0 } } }, gate: { metric: "heldout_gain", direction: "higher", threshold: 0.02 }, retry: retry(2) };
  }
  return {
    ...base,
    stage,
    trains: ["route_head", "vitality_head"],
    layers: [2, 4],
    steps: 400,
    lr: 1e-3,
    losses: { route: { weight: 1, ramp: { kind: "linear", steps: 100 } }, vit: { weight: 0.5, ramp: { kind: "cosine", steps: 100 } } },
    gate: { metric: "route_gain", direction: "higher", threshold: 0 },
    retry: retry(1),
  };
}

export const samplePlan = (): CurriculumPlan => ({ stages: [stagePlanOf(0), stagePlanOf(1), stagePlanOf(2)], seed: 1234, runTimeoutMs: null });

/** Milliseconds of simulated time one training step takes. */
const STEP_MS = 40;

function sampleWork(clock: SimulatedClock): StageWork {
  return {
    async prepare(input) {
      clock.increment(800);
      return { details: { host: "local", stage: input.stage } };
    },
    async train(input, onProgress) {
      const steps = input.attempt.steps;
      if (input.stage === 0) {
        clock.increment(steps * 60);
        return { steps };
      }
      const rnd = prng(input.attempt.seed * 31 + input.attempt.attempt);
      const unstable = input.attempt.attempt === 1;
      for (let step = 1; step <= steps; step++) {
        clock.increment(STEP_MS);
        const floor = unstable ? 1.9 : 1.25;
        const decay = 2.6 * Math.exp(-step / (unstable ? 60 : 110));
        const noise = (rnd() - 0.5) * (unstable ? 0.35 + step / 600 : 0.12);
        let sft = floor + decay + noise;
        if (unstable && step >= 285 && step <= 287) sft = Number.NaN; // diverged for a moment
        onProgress({ step, losses: { total: sft + 0.02, sft } });
      }
      return { steps, checkpoint: `ckpt-s${input.stage}-a${input.attempt.attempt}` };
    },
    async evaluate(input): Promise<EvaluateOutput> {
      clock.increment(1500);
      if (input.stage === 0) {
        // the base right on 60 of 100 held-out items of its domains, a constant answer on 20
        const evidence = compareAgainstReferences({
          measure: "held-out exact match on the base's own domains",
          score: { name: "base", hits: Uint8Array.from({ length: 100 }, (_, i) => (i < 60 ? 1 : 0)) },
          references: [{ name: "constant", kind: "trivial", hits: Uint8Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 1 : 0)), detail: 'always "no"' }],
        });
        const checks = [{ name: "a split layer found", ok: true, detail: "layer 2 agrees on 0.93 of tokens; bar 0.9" }];
        return { metric: evidence.gain, evidence, checks, details: { split_layers: [2, 4], baseline: { heldout_nll: 2.412, exact_match: 0.6 } } };
      }
      const metric = input.attempt.attempt === 1 ? 0.0081 : 0.0374;
      return { metric, details: { nll_base: 2.412, nll_adapted: 2.412 * (1 - metric), prompts: 400 } };
    },
    async checkpoint(input) {
      return { checkpointId: `ckpt-${input.runId}-rollback` };
    },
    async rollback() {},
  };
}

export interface SampleRun {
  readonly report: RunReport;
  readonly events: ReportEvent[];
  readonly recorder: LossRecorder;
  readonly context: DirectorContext;
  readonly summary: RunSummary;
}

let runs = 0;

/** Runs the sample through the real director, feeding the observer, a recorder and `view`. */
export async function sampleRun(opts: { view?: ProgressView; maxPoints?: number; extras?: boolean; plan?: CurriculumPlan } = {}): Promise<SampleRun> {
  const clock = new SimulatedClock();
  clock.set(1_700_000_000_000);
  const runId = `sample-${process.pid}-${++runs}`;
  const plan = opts.plan ?? samplePlan();
  const recorder = createLossRecorder(opts.maxPoints ? { maxPoints: opts.maxPoints } : {});
  const observer = createDirectorObserver({ tokensPerStep: (stage) => (stage === 0 ? null : 16 * 128) });
  const events: ReportEvent[] = [];
  const feed = (s: { value: unknown; context: DirectorContext }) => {
    for (const e of observer.observe(s)) {
      events.push(e);
      recorder.handle(e);
      opts.view?.handle(e);
    }
  };
  const handle = await startDirector({
    runId,
    plan,
    available: [0, 1],
    unavailableReasons: { 2: "the oracle labeler and the route/vitality heads are not built yet" },
    store: createMemorySnapshotStore(),
    work: sampleWork(clock),
    clock,
  });
  handle.actor.subscribe((s) => feed(s));
  feed(handle.actor.getSnapshot());
  // Backoff between attempts waits on the simulated clock: move it along until the run ends.
  let ended = false;
  const result = handle.done.finally(() => (ended = true));
  while (!ended) {
    await new Promise((r) => setImmediate(r));
    clock.increment(1000);
  }
  const summary = await result;
  if (summary instanceof Error) throw summary;
  const context = handle.context();
  const report = buildReport({
    context,
    losses: recorder,
    scenario: { name: "quickstart", file: "scenarios/quickstart.yaml", digest: configDigest(plan) },
    cast: [
      { role: "director", id: "director-0", host: "local", pid: 41200, restarts: 0 },
      { role: "trainer", id: "trainer-0", host: "local", pid: 41201, restarts: 1, backend: "cpu", status: "running" },
      { role: "teacher", id: "teacher-0", host: "local", pid: 41202, restarts: 0, backend: "cpu" },
      { role: "evaluator", id: "evaluator-0", host: "local", pid: 41203, restarts: 0, backend: "cpu" },
    ],
    hosts: [{ name: "local", address: "127.0.0.1", cores: 2, memory_gb: 7.8, backends: ["cpu"] }],
    ...(opts.extras
      ? {
          transfer: [
            { codec: "f16", path: "same_host", bits_per_value: 16, bytes: 262144, cosine: 0.99998, mse: 1.2e-6, kl: 0.0004 },
            { codec: "q8_0", path: "same_host", bits_per_value: 8.5, bytes: 139264, cosine: 0.9991, mse: 4.1e-5, kl: 0.0031 },
            { codec: "q4_0", path: "cross_host", bits_per_value: 4.5, bytes: 73728, cosine: 0.987, mse: 6.3e-4, kl: 0.041, extra: { hosts: "mac4 → linux1" } },
          ],
          benchmarks: [{ name: "trainer step (stage 1)", value: 38.5, unit: "ms/step", note: "batch 16 × 128 tokens" }],
          notes: ["Stage 2 needs the oracle labeler; see <issue #12> & the \"roadmap\"."],
        }
      : {}),
    generatedAt: new Date(Date.UTC(2025, 0, 15, 12, 30, 0)),
  });
  return { report, events, recorder, context, summary };
}
