import { test } from "node:test";
import assert from "node:assert/strict";
import { attemptSettings, checkPlan, isDirectorPlanError, judgeGate, maxAttempts } from "../../../actors/director/mod.js";
import { fakeEvidence } from "./fake-work.js";
import { plan, stage } from "./plans.js";

const retrying = stage(1, {
  steps: 100,
  lr: 1e-3,
  retry: { max: 2, backoffMs: 0, change: { lrMult: 0.5, stepsMult: 1.5, reseed: true } },
});

test("attempts - the first attempt runs the plan as written", () => {
  const a = attemptSettings(retrying, 1, 42);
  assert.deepEqual(a, { attempt: 1, maxAttempts: 3, steps: 100, lr: 1e-3, seed: 42, changes: {} });
});

test("attempts - each retry compounds the stage's changes (lr, steps, seed)", () => {
  const a2 = attemptSettings(retrying, 2, 42);
  assert.equal(a2.lr, 5e-4);
  assert.equal(a2.steps, 150);
  assert.equal(a2.seed, 43);
  assert.deepEqual(a2.changes, { lrScale: 0.5, stepsScale: 1.5, seed: 43 });
  const a3 = attemptSettings(retrying, 3, 42);
  assert.equal(a3.lr, 2.5e-4);
  assert.equal(a3.steps, 225);
  assert.equal(a3.seed, 44);
});

test("attempts - without changes a retry repeats the plan and records no change", () => {
  const s = stage(1, { retry: { max: 1, backoffMs: 0, change: { lrMult: 1, stepsMult: 1, reseed: false } } });
  assert.deepEqual(attemptSettings(s, 2, 7).changes, {});
  assert.equal(maxAttempts(s), 2);
});

test("attempts - attempt numbers start at 1", () => {
  assert.throws(() => attemptSettings(retrying, 0, 1), RangeError);
});

test("gate - higher-is-better passes at or above the threshold", () => {
  const g = { metric: "heldout_gain", direction: "higher" as const, threshold: 0.02 };
  assert.equal(judgeGate(g, 0.02).passed, true);
  assert.equal(judgeGate(g, 0.019).passed, false);
  assert.equal(judgeGate(g, 0.019).reason, "heldout_gain 0.019 < min 0.02");
});

test("gate - lower-is-better passes at or below the threshold", () => {
  const g = { metric: "depth_kl", direction: "lower" as const, threshold: 0.05 };
  assert.equal(judgeGate(g, 0.04).passed, true);
  assert.equal(judgeGate(g, 0.06).passed, false);
  assert.equal(judgeGate(g, 0.06).reason, "depth_kl 0.06 > max 0.05");
});

test("gate - without a planned threshold the evaluator's measured one is used", () => {
  const g = { metric: "heldout_gain", direction: "higher" as const, threshold: null };
  const v = judgeGate(g, 0.7, 0.65);
  assert.equal(v.passed, true);
  assert.equal(v.threshold, 0.65);
  const none = judgeGate(g, 0.7);
  assert.equal(none.passed, false);
  assert.match(none.reason, /no threshold/);
});

test("gate - on the interval: the lower bound must reach a min, the upper bound stay under a max", () => {
  // guards #9 (stage 4 and 6 gains that passed only by noise)
  const higher = { metric: "quality_per_compute_gain", direction: "higher" as const, threshold: 0, interval: true };
  const inside = judgeGate(higher, 0.05, null, { metricCi: [0.01, 0.09] });
  assert.equal(inside.passed, true, inside.reason);
  assert.match(inside.reason, /95% CI \[0\.01, 0\.09\]: lower bound 0\.01\) >= min 0/);
  const noisy = judgeGate(higher, 0.05, null, { metricCi: [-0.02, 0.12] });
  assert.equal(noisy.passed, false, "the same point value, an interval that reaches below the bar");
  assert.equal(judgeGate({ ...higher, interval: false }, 0.05, null, { metricCi: [-0.02, 0.12] }).passed, true, "on the point value it would pass");
  assert.match(judgeGate(higher, 0.05).reason, /the gate is on the 95% interval, and the evaluation reported none/);
  const lower = { metric: "depth_kl", direction: "lower" as const, threshold: 0.1, interval: true };
  assert.equal(judgeGate(lower, 0.08, null, { metricCi: [0.07, 0.09] }).passed, true);
  assert.equal(judgeGate(lower, 0.08, null, { metricCi: [0.07, 0.11] }).passed, false);
});

test("gate - a NaN metric never passes", () => {
  const g = { metric: "depth_kl", direction: "lower" as const, threshold: 1 };
  assert.equal(judgeGate(g, Number.NaN).passed, false);
});

test("plan - checkPlan rejects out-of-order stages, wrong directions and early loss terms", () => {
  const bad = [
    plan([stage(1)]),
    plan([stage(0), stage(2), stage(1)]),
    plan([stage(0), stage(0)]),
    plan([stage(0), stage(3, { gate: { metric: "depth_kl", direction: "higher", threshold: 1 } })]),
    plan([stage(0), stage(1, { losses: { route: { weight: 1, ramp: { kind: "none", steps: 0 } } } })]),
    plan([stage(0), stage(1), stage(6)]), // stage 6 lists route, but stage 2 is not in the plan
  ];
  for (const p of bad) assert.throws(() => checkPlan(p), isDirectorPlanError);
  assert.doesNotThrow(() => checkPlan(plan([stage(0), stage(1)])));
});

// guards #14: a gain must be measured against the trivial answer, and required checks must hold
test("gate - a gain metric without a trivial reference fails, whatever its value", () => {
  const g = { metric: "em_gain", direction: "higher" as const, threshold: 0.1 };
  const none = judgeGate(g, 0.5);
  assert.equal(none.passed, false);
  assert.match(none.reason, /em_gain 0.5 came without a comparison to a trivial baseline \(constant answer, majority class\)/);
  const namedOnly = { ...fakeEvidence(0.5), references: [{ name: "base", kind: "named" as const, value: 0, correct: 0, ci: [0, 0.07] as const }], against: "base" };
  assert.equal(judgeGate(g, 0.5, null, { evidence: namedOnly }).passed, false);
  const ok = judgeGate(g, 0.5, null, { evidence: fakeEvidence(0.5) });
  assert.equal(ok.passed, true);
  assert.equal(ok.reason, "em_gain 0.5 >= min 0.1 (model 0.75 vs best reference constant 0.25; gain 95% CI [0.40, 0.60])");
});

test("gate - a gain metric must be the evidence's gain over the best reference", () => {
  const g = { metric: "em_gain", direction: "higher" as const, threshold: 0.1 };
  const v = judgeGate(g, 0.42, null, { evidence: fakeEvidence(0) });
  assert.equal(v.passed, false);
  assert.match(v.reason, /em_gain 0.42 is not the gain over the best reference \(0 over constant\)/);
  assert.equal(judgeGate(g, 0, null, { evidence: fakeEvidence(0) }).passed, false, "the constant-answer model gains 0");
});

test("gate - a failed required check fails a gate whose metric passes, and says which", () => {
  const g = { metric: "heldout_gain", direction: "higher" as const, threshold: 0.02 };
  const checks = [{ name: "record complete", ok: true }, { name: "a split layer found", ok: false, detail: "layer 0 0.71; bar 0.8" }];
  const v = judgeGate(g, 0.5, null, { checks });
  assert.equal(v.passed, false);
  assert.equal(v.reason, "heldout_gain 0.5 >= min 0.02; failed: a split layer found (layer 0 0.71; bar 0.8)");
  assert.equal(judgeGate(g, 0.5, null, { checks: [checks[0]!] }).passed, true);
  assert.match(judgeGate(g, Number.NaN, null, { checks }).reason, /not a finite number \(NaN\); failed: a split layer found/);
});
