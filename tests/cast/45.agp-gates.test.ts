// The head stages' gates as the director judges them (agpEvaluation → judgeGate): the score must
// meet the threshold and beat both the named and the best trivial baseline on the same held-out
// items; stage 4 stable but within noise of a constant vector ends off the critical path.
// Every gate is shown passing, failing its threshold, and failing when a baseline wins.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type AgpReportJson, agpEvaluation } from "../../actors/cast/mod.js";
import { type GatePlan, judgeGate } from "../../actors/director/mod.js";

/** Per-item rows [score, named, trivial] with `n` items: hit rates or values as given. */
function hitRows(n: number, rates: readonly number[]): Float32Array[] {
  return rates.map((p) => Float32Array.from({ length: n }, (_, i) => (i < Math.round(p * n) ? 1 : 0)));
}

function valueRows(n: number, means: readonly number[]): Float32Array[] {
  return means.map((m) => Float32Array.from({ length: n }, (_, i) => m * (0.5 + (i % 2))));
}

function report(stage: number, metric: string, kind: "hits" | "values", direction: "higher" | "lower", score: number, named: number, trivial: number, extra: Partial<AgpReportJson> = {}): AgpReportJson {
  const better = (a: number, b: number) => (direction === "higher" ? a > b : a < b);
  return {
    stage, metric, value: score, direction,
    score: { name: "score", value: score }, named: { name: "named", value: named }, trivial: { name: "trivial", value: trivial },
    beatsNamed: better(score, named), beatsTrivial: better(score, trivial), reason: "", checks: [], details: {},
    items_meta: { measure: "m", kind, direction, rows: [{ name: "score" }, { name: "named" }, { name: "trivial" }] },
    ...extra,
  };
}

function judge(stage: number, gate: GatePlan, r: AgpReportJson, rows: Float32Array[]) {
  const out = agpEvaluation({ stage: stage as 2, gate }, r, rows);
  return { out, v: judgeGate(gate, out.metric, null, { evidence: out.evidence ?? null, checks: out.checks ?? [], metricCi: out.metricCi ?? null }) };
}

test("stage 2 gate - route_gain is the gain over the better of entropy-only and majority routing", () => {
  const gate: GatePlan = { metric: "route_gain", direction: "higher", threshold: 0 };
  const ok = judge(2, gate, report(2, "route_gain", "hits", "higher", 0.9, 0.8, 0.6), hitRows(400, [0.9, 0.8, 0.6]));
  assert.equal(ok.v.passed, true, ok.v.reason);
  assert.ok(Math.abs(ok.out.metric - 0.1) < 1e-6);
  assert.equal(ok.out.evidence?.against, "named");
  // a threshold it must fail
  assert.equal(judge(2, { ...gate, threshold: 0.2 }, report(2, "route_gain", "hits", "higher", 0.9, 0.8, 0.6), hitRows(400, [0.9, 0.8, 0.6])).v.passed, false);
  // the majority class wins: no pass, whatever the threshold
  const lost = judge(2, { ...gate, threshold: -1 }, report(2, "route_gain", "hits", "higher", 0.7, 0.65, 0.75), hitRows(400, [0.7, 0.65, 0.75]));
  assert.equal(lost.v.passed, false);
  assert.match(lost.v.reason, /beats the best trivial baseline/);
});

test("stage 3 gate - depth_kl at most the bound and below logit-lens exit and the constant answer", () => {
  const gate: GatePlan = { metric: "depth_kl", direction: "lower", threshold: 0.1 };
  const r = (s: number, n: number, t: number) => report(3, "depth_kl", "values", "lower", s, n, t);
  assert.equal(judge(3, gate, r(0.04, 0.11, 2), valueRows(300, [0.04, 0.11, 2])).v.passed, true);
  assert.equal(judge(3, { ...gate, threshold: 0.01 }, r(0.04, 0.11, 2), valueRows(300, [0.04, 0.11, 2])).v.passed, false);
  const lens = judge(3, { ...gate, threshold: 1 }, r(0.2, 0.15, 2), valueRows(300, [0.2, 0.15, 2]));
  assert.equal(lens.v.passed, false, "the plain logit lens wins");
  assert.match(lens.v.reason, /beats named/);
});

test("stage 4 gate - stable but within noise of the constant vector ends off the critical path; a clear gain passes", () => {
  const gate: GatePlan = { metric: "sem_gain", direction: "higher", threshold: 0 };
  const stable = { details: { stable: true, off_path: false } };
  // 0.902 vs 0.900 on 500 tokens: noise
  const noisy = judge(4, gate, report(4, "sem_gain", "hits", "higher", 0.0014, 0, 0.0001, stable), hitRows(500, [0.902, 0.9, 0.9]));
  assert.equal(noisy.v.passed, false, noisy.v.reason);
  assert.match(noisy.out.offPath ?? "", /within noise/);
  const clear = judge(4, gate, report(4, "sem_gain", "hits", "higher", 0.05, 0, 0.001, stable), hitRows(500, [0.95, 0.9, 0.9]));
  assert.equal(clear.v.passed, true, clear.v.reason);
  assert.equal(clear.out.offPath ?? null, null);
  // unstable: a plain failure, not off the path
  const unstable = judge(4, gate, report(4, "sem_gain", "hits", "higher", 0, 0, 0.001, { details: { stable: false } }), hitRows(500, [0.9, 0.9, 0.9]));
  assert.equal(unstable.v.passed, false);
  assert.equal(unstable.out.offPath ?? null, null);
});

test("stage 5 gate - transfer_kl of the learned codec at most the bound and below int4 and the constant state", () => {
  const gate: GatePlan = { metric: "transfer_kl", direction: "lower", threshold: 0.01 };
  const r = (s: number, n: number, t: number) => report(5, "transfer_kl", "values", "lower", s, n, t);
  assert.equal(judge(5, gate, r(0.0009, 0.0015, 1.2), valueRows(600, [0.0009, 0.0015, 1.2])).v.passed, true);
  assert.equal(judge(5, { ...gate, threshold: 0.0001 }, r(0.0009, 0.0015, 1.2), valueRows(600, [0.0009, 0.0015, 1.2])).v.passed, false);
  assert.equal(judge(5, gate, r(0.002, 0.0015, 1.2), valueRows(600, [0.002, 0.0015, 1.2])).v.passed, false, "int4 wins");
});

test("stage 6 gate - judged on the interval's lower bound: a noisy gain rolls back, a clear one passes", () => {
  const gate: GatePlan = { metric: "quality_per_compute_gain", direction: "higher", threshold: 0, interval: true };
  const r = (v: number, ci: [number, number], s: number, n: number, t: number) => report(6, "quality_per_compute_gain", "values", "higher", s, n, t, { value: v, valueCi: ci });
  assert.equal(judge(6, gate, r(0.04, [0.01, 0.08], 0.49, 0.47, 0.2), valueRows(250, [0.49, 0.47, 0.2])).v.passed, true);
  assert.equal(judge(6, gate, r(0.04, [-0.005, 0.09], 0.49, 0.47, 0.2), valueRows(250, [0.49, 0.47, 0.2])).v.passed, false, "the interval reaches below 0");
  assert.equal(judge(6, gate, r(0.04, [0.01, 0.08], 0.49, 0.47, 0.6), valueRows(250, [0.49, 0.47, 0.6])).v.passed, false, "a fixed policy wins");
});
