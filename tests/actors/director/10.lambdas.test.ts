import { test } from "node:test";
import assert from "node:assert/strict";
import { lambdasAt, lambdasFor, rampFactor, termsSwitchedOn } from "../../../actors/director/mod.js";
import { fullPlan, plan, stage } from "./plans.js";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test("lambdas - linear ramp rises from 0 to 1 over its steps and stays there", () => {
  const r = { kind: "linear" as const, steps: 100 };
  assert.equal(rampFactor(r, 0), 0);
  close(rampFactor(r, 25), 0.25);
  close(rampFactor(r, 50), 0.5);
  assert.equal(rampFactor(r, 100), 1);
  assert.equal(rampFactor(r, 1000), 1);
  assert.equal(rampFactor(r, -5), 0);
});

test("lambdas - cosine ramp has linear's endpoints and midpoint but starts slower", () => {
  const r = { kind: "cosine" as const, steps: 100 };
  assert.equal(rampFactor(r, 0), 0);
  close(rampFactor(r, 50), 0.5);
  close(rampFactor(r, 100), 1);
  assert.ok(rampFactor(r, 10) < 0.1, "cosine starts below linear");
  assert.ok(rampFactor(r, 90) > 0.9, "cosine ends above linear");
  close(rampFactor(r, 25), 0.5 * (1 - Math.cos(Math.PI / 4)));
});

test("lambdas - `none` is full weight from step 0", () => {
  assert.equal(rampFactor({ kind: "none", steps: 50 }, 0), 1);
});

test("lambdas - a term is off before the stage that switches it on", () => {
  const p = fullPlan();
  for (const s of [0, 1] as const) {
    const l = lambdasAt(p, s, 1000);
    assert.equal(l.route, 0);
    assert.equal(l.vit, 0);
    assert.equal(l.depth, 0);
    assert.equal(l.transfer, 0);
  }
  assert.equal(lambdasAt(p, 0, 10).sft, 0, "stage 0 trains nothing");
  assert.equal(lambdasAt(p, 1, 10).sft, 1);
});

test("lambdas - stage 2 ramps route (linear) and vit (cosine) to their weights", () => {
  const p = fullPlan(); // route: weight 1 over 50 steps; vit: weight 0.5 cosine over 50
  const mid = lambdasAt(p, 2, 25);
  close(mid.route, 0.5);
  close(mid.vit, 0.25);
  const end = lambdasAt(p, 2, 50);
  assert.equal(end.route, 1);
  close(end.vit, 0.5);
  assert.equal(end.depth, 0);
  assert.equal(end.sft, 0, "stage 2 in this plan does not list sft");
});

test("lambdas - each stage switches on only its own terms (never all at once)", () => {
  const p = fullPlan();
  assert.deepEqual(termsSwitchedOn(p, 0), []);
  assert.deepEqual(termsSwitchedOn(p, 1), ["sft"]);
  assert.deepEqual(termsSwitchedOn(p, 2), ["route", "vit"]);
  assert.deepEqual(termsSwitchedOn(p, 3), ["depth"]);
  assert.deepEqual(termsSwitchedOn(p, 6), [], "stage 6 only re-uses terms switched on earlier");
});

test("lambdas - a stage the plan does not list has every λ at 0", () => {
  const p = plan([stage(0), stage(1)]);
  assert.deepEqual(Object.values(lambdasAt(p, 4, 10)), [0, 0, 0, 0, 0, 0]);
});

test("lambdas - lambdasFor uses the schedule's weights", () => {
  const l = lambdasFor({ sem: { weight: 0.3, ramp: { kind: "linear", steps: 10 } } }, 5);
  close(l.sem, 0.15);
  assert.equal(l.route, 0);
});
