// Axis ticks: nice linear steps, widening of constant domains, and when to go log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { axisFor, chooseScale, linearAxis, logAxis } from "../../report/mod.js";

test("report - linear axis ticks are 1-2-5 steps that cover the data", () => {
  assert.deepEqual(linearAxis(0, 1).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearAxis(1.3, 4.6).ticks, [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  const a = linearAxis(0, 780, 6, true);
  assert.deepEqual(a.ticks, [0, 100, 200, 300, 400, 500, 600, 700, 800]);
  assert.deepEqual(linearAxis(1, 3, 6, true).ticks, [1, 2, 3], "whole steps only");
});

test("report - a constant or single-value domain is widened, never divided by zero", () => {
  for (const [lo, hi] of [[2.5, 2.5], [0, 0], [-3, -3], [1e-9, 1e-9]] as const) {
    const a = linearAxis(lo, hi);
    assert.ok(a.lo < lo && a.hi > hi, `${lo}: ${a.lo}..${a.hi}`);
    assert.ok(a.ticks.every(Number.isFinite));
    assert.ok(a.ticks.length >= 2 && a.ticks.length <= 12);
  }
  const l = logAxis(3, 3);
  assert.ok(l.lo < 3 && l.hi > 3);
});

test("report - log scale is chosen only for positive data spanning more than two decades", () => {
  assert.equal(chooseScale("auto", 0.01, 10), "log");
  assert.equal(chooseScale("auto", 0.5, 40), "linear");
  assert.equal(chooseScale("auto", 0, 1000), "linear", "zero cannot go on a log axis");
  assert.equal(chooseScale("log", -1, 10), "linear");
  assert.equal(chooseScale("log", 1, 2), "log");
  assert.equal(chooseScale("linear", 0.001, 1000), "linear");
  const a = axisFor("auto", 0.003, 42);
  assert.equal(a.kind, "log");
  assert.equal(a.lo, 0.001);
  assert.equal(a.hi, 100);
  assert.ok([0.001, 0.01, 0.1, 1, 10, 100].every((t) => a.ticks.includes(t)));
  assert.ok(logAxis(1e-12, 1e12).ticks.length <= 16, "many decades are thinned");
});
