// models - the stage verdict: a gate passes only when its metric meets the threshold and the
// model beats both the named baseline and the best trivial one; NaN never passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { M } from "../helpers.js";

const base = {
  stage: 2 as const, metric: "route_gain", direction: "higher" as const, details: {},
  score: { name: "head", value: 0.9 }, named: { name: "entropy", value: 0.8 }, trivial: { name: "majority", value: 0.7 },
};

test("gates - passes when the metric meets the threshold and the score beats both baselines", () => {
  const r = M.gateReport({ ...base, value: 0.1, threshold: 0.05 });
  assert.equal(r.passed, true);
  assert.match(r.reason, /beats entropy 0.8 and majority 0.7/);
});

test("gates - a threshold the metric misses fails the gate", () => {
  const r = M.gateReport({ ...base, value: 0.1, threshold: 0.2 });
  assert.equal(r.passed, false);
  assert.equal(r.meetsThreshold, false);
  assert.match(r.reason, /route_gain 0.1 < min 0.2/);
});

test("gates - a stage whose named or trivial baseline wins does not pass, whatever the threshold", () => {
  const named = M.gateReport({ ...base, value: -0.05, threshold: -1, score: { name: "head", value: 0.75 } });
  assert.equal(named.passed, false);
  assert.equal(named.beatsNamed, false);
  const trivial = M.gateReport({ ...base, value: 0.1, threshold: 0, trivial: { name: "majority", value: 0.95 } });
  assert.equal(trivial.passed, false);
  assert.match(trivial.reason, /does not beat majority 0.95/);
  const tie = M.gateReport({ ...base, value: 0, threshold: 0, score: { name: "head", value: 0.8 } });
  assert.equal(tie.passed, false, "equal to the baseline is not better");
});

test("gates - lower-is-better metrics, NaN and extra checks", () => {
  const low = { ...base, stage: 3 as const, metric: "depth_kl", direction: "lower" as const, score: { name: "routed", value: 0.05 }, named: { name: "lens", value: 0.1 }, trivial: { name: "constant", value: 2 } };
  assert.equal(M.gateReport({ ...low, value: 0.05, threshold: 0.06 }).passed, true);
  assert.equal(M.gateReport({ ...low, value: 0.05, threshold: 0.04 }).passed, false);
  assert.equal(M.gateReport({ ...low, value: NaN, threshold: null, score: { name: "routed", value: NaN } }).passed, false);
  const extra = M.gateReport({ ...base, value: 0.1, threshold: 0, extraChecks: [{ ok: false, why: "macro-F1 loses" }] });
  assert.equal(extra.passed, false);
  assert.match(extra.reason, /macro-F1 loses/);
});
