import { test } from "node:test";
import { SimulatedClock } from "xstate";
import assert from "node:assert/strict";
import { formatStatus, isDirectorSnapshotError, stateName, statusOf, type RunSummary } from "../../../actors/director/mod.js";
import { createFakeWork, deferred } from "./fake-work.js";
import { launch, reach } from "./harness.js";
import { plan, stage } from "./plans.js";

test("summary - per stage: passed, metric vs threshold, attempts, steps, wall time from the clock", async () => {
  const work = createFakeWork();
  const clock = new SimulatedClock();
  const base = work.trainImpl;
  work.trainImpl = async (input, onProgress, signal) => {
    clock.increment(input.stage === 0 ? 1500 : 2500); // training takes simulated time
    return base(input, onProgress, signal);
  };
  work.metric = (s, a, input) => (s === 1 && a === 1 ? 0.01 : s === 1 ? 0.05 : input.gate.threshold!);
  const p = plan([stage(0, { steps: 10 }), stage(1, { steps: 40, retry: { max: 1, backoffMs: 0, change: { lrMult: 1, stepsMult: 1, reseed: false } } })]);
  const l = await launch(p, { work, clock });
  const s = (await l.h.done) as RunSummary;
  assert.equal(s.outcome, "done");
  const json = JSON.parse(JSON.stringify(s)) as RunSummary;
  assert.deepEqual(
    json.stages.map((x) => ({ stage: x.stage, passed: x.passed, metric: x.metric, threshold: x.threshold, attempts: x.attempts, steps: x.steps })),
    [
      { stage: 0, passed: true, metric: 1, threshold: 1, attempts: 1, steps: 10 },
      { stage: 1, passed: true, metric: 0.05, threshold: 0.02, attempts: 2, steps: 80 },
      ...[2, 3, 4, 5, 6].map((n) => ({ stage: n, passed: false, metric: null, threshold: null, attempts: 0, steps: 0 })),
    ],
  );
  const trained = work.calls.filter((c) => c.op === "train").length;
  assert.equal(trained, 3);
  assert.equal(s.wall_s, s.stages.reduce((t, x) => t + (x.wall_s ?? 0), 0), "stage wall times add up to the run's");
  assert.equal(s.stages[0]!.wall_s, 1.5);
  assert.equal(s.stages[1]!.wall_s, 5, "two attempts of 2.5 s each");
  assert.equal(s.wall_s, 6.5);
  assert.deepEqual(s.stages.slice(2).map((x) => x.status), ["omitted", "omitted", "omitted", "omitted", "omitted"]);
  assert.equal(s.stages[1]!.gate_metric, "heldout_gain");
  assert.equal(s.stopped, undefined);
});

test("status - a running snapshot shows stage, attempt, step, losses and λ", async () => {
  const work = createFakeWork();
  const release = deferred();
  const base = work.trainImpl;
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage !== 2) return base(input, onProgress, signal);
    onProgress({ step: 30, losses: { total: 2.25, route: 0.9, vit: 0.4 } });
    await release.promise;
    return { steps: 100 };
  };
  const l = await launch(plan([stage(0), stage(1), stage(2)]), { work });
  await reach(l.h, "stage2.training");
  await l.h.settled();
  const stored = (await l.store.load(l.runId))!.snapshot;
  const v = statusOf(stored);
  assert.equal(v.state, "stage2.training");
  assert.deepEqual(v.stage, { id: 2, name: "route + vitality heads" });
  assert.deepEqual(v.attempt, { n: 1, max: 1 });
  assert.deepEqual(v.step, { done: 30, total: 100 });
  assert.deepEqual(v.losses, { total: 2.25, route: 0.9, vit: 0.4 });
  assert.ok(Math.abs(v.lambdas!.route - 0.6) < 1e-12);
  assert.deepEqual(v.stages.map((s) => [s.stage, s.status]), [[0, "passed"], [1, "passed"], [2, "running"]]);
  const text = formatStatus(v);
  assert.match(text, /^run run-.* · running · stage 2 \(route \+ vitality heads\) · training · attempt 1\/1 · step 30\/100/);
  assert.match(text, /losses {2}total 2.25 {2}route 0.9 {2}vit 0.4/);
  assert.match(text, /λ {7}route 0.6 {2}vit 0.3273/);
  assert.match(text, /1 domain adapter\s+passed\s+heldout_gain 0.02 >= min 0.02/);
  release.resolve();
  await l.h.done;
});

test("status - a stopped run shows why", async () => {
  const l = await launch(plan([stage(0), stage(1)]), { available: [0] });
  await l.h.done;
  const v = statusOf((await l.store.load(l.runId))!.snapshot);
  assert.equal(v.state, "stopped");
  assert.equal(v.outcome, "stopped");
  assert.equal(v.stage, null);
  assert.match(formatStatus(v), /stopped: stage 1 \(domain adapter\) is not available/);
});

test("status - stateName flattens nested state values; a non-director snapshot is refused", () => {
  assert.equal(stateName({ stage1: "training" }), "stage1.training");
  assert.equal(stateName("done"), "done");
  assert.throws(() => statusOf({ status: "active", value: "x", context: {} as never }), isDirectorSnapshotError);
});
