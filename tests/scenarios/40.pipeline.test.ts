// Scenario file → RunPlan → director, with stubbed work: the acceptance lines of issue 5
// that need both halves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SimulatedClock } from "xstate";
import { createMemorySnapshotStore, startDirector, type RunSummary } from "../../actors/director/mod.js";
import { loadScenario } from "../../scenarios/mod.js";
import { createFakeWork } from "../actors/director/fake-work.js";
import { fixtures, fullCurriculum } from "./paths.js";

test("pipeline - an impossible stage-1 threshold fails its gate after its retries and stops with a report", async () => {
  // guards #5 (acceptance: impossible stage-1 threshold)
  const plan = loadScenario(join(fixtures, "impossible-stage1.yaml"));
  const work = createFakeWork();
  work.metric = (stage, attempt, input) => (stage === 1 ? 0.03 * attempt : input.gate.threshold!);
  const h = await startDirector({ runId: "impossible", store: createMemorySnapshotStore(), work, clock: new SimulatedClock(), plan: plan.curriculum, available: [0, 1, 2] });
  const s = (await h.done) as RunSummary;
  assert.equal(s.outcome, "stopped");
  assert.equal(s.stopped?.kind, "gate_exhausted");
  assert.match(s.stopped!.reason, /stage 1 \(domain adapter\) did not pass its gate after 3 attempts \(2 retries, the budget\): heldout_gain 0.09 < min 0.99/);
  const stage1 = s.stages.find((x) => x.stage === 1)!;
  assert.deepEqual([stage1.passed, stage1.metric, stage1.threshold, stage1.attempts], [false, 0.09, 0.99, 3]);
  assert.equal(work.count("prepare", 2), 0, "stage 2 never starts");
  assert.deepEqual(work.trains(1).map((c) => c.attempt), [1, 2, 3]);
  const third = work.trains(1)[2]!.input.attempt;
  assert.deepEqual([third.lr, third.steps], [2.5e-4, 200], "retries halve lr and double steps as the scenario says");
});

test("pipeline - the full curriculum with stages 0 and 1 built stops at stage 2 saying it is not available", async () => {
  const plan = loadScenario(fullCurriculum);
  const h = await startDirector({ runId: "quickstart", store: createMemorySnapshotStore(), work: createFakeWork(), clock: new SimulatedClock(), plan: plan.curriculum, available: [0, 1] });
  const s = (await h.done) as RunSummary;
  assert.deepEqual(s.stages.map((x) => [x.stage, x.status]), [[0, "passed"], [1, "passed"], [2, "not_available"]]);
  assert.equal(s.stopped?.kind, "not_available");
  assert.match(s.stopped!.reason, /^stage 2 \(route \+ vitality heads\) is not available/);
});
