// LossRecorder: every point up to the limit, then a bounded, deterministic min/max sketch
// that keeps the first and last point and the extremes; NaN counted, not kept; resumable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLossRecorder, type ReportEvent } from "../../actors/director/mod.js";
import { prng } from "./prng.js";

const feed = (n: number, f: (i: number) => number, maxPoints = 64) => {
  const r = createLossRecorder({ maxPoints });
  for (let i = 1; i <= n; i++) r.add({ stage: 1, attempt: 1, step: i, losses: { total: f(i) } });
  return r;
};
const pointsOf = (r: ReturnType<typeof createLossRecorder>, stage: 1 | 2 = 1) => r.series(stage)[0]!.terms.total!.points;

test("report - recorder keeps every point up to maxPoints, in order", () => {
  const r = feed(64, (i) => 1 / i);
  const pts = pointsOf(r);
  assert.equal(pts.length, 64);
  assert.deepEqual(pts.map((p) => p.step), Array.from({ length: 64 }, (_, i) => i + 1));
  assert.equal(r.series(1)[0]!.terms.total!.reported, 64);
});

test("report - recorder downsampling of 100k points stays bounded and keeps first, last, min and max", () => {
  const rnd = prng(7);
  const values: number[] = [];
  const r = createLossRecorder({ maxPoints: 200 });
  for (let i = 0; i < 100_000; i++) {
    let v = 3 * Math.exp(-i / 20_000) + rnd() * 0.1;
    if (i === 33_333) v = 50; // a spike
    if (i === 71_111) v = -5; // a dip
    values.push(v);
    r.add({ stage: 1, attempt: 1, step: i, losses: { total: v } });
  }
  const t = r.series(1)[0]!.terms.total!;
  assert.ok(t.points.length <= 200, `${t.points.length} points`);
  assert.ok(t.points.length >= 100, "uses its budget");
  assert.equal(t.reported, 100_000);
  assert.deepEqual(t.points[0], { step: 0, value: values[0] });
  assert.deepEqual(t.points[t.points.length - 1], { step: 99_999, value: values[99_999] });
  assert.ok(t.points.some((p) => p.step === 33_333 && p.value === 50), "keeps the spike");
  assert.ok(t.points.some((p) => p.step === 71_111 && p.value === -5), "keeps the dip");
  for (let k = 1; k < t.points.length; k++) assert.ok(t.points[k]!.step > t.points[k - 1]!.step, "in step order");
  // The state stays small too, not just the output.
  assert.ok(JSON.stringify(r.toJSON()).length < 40_000, "state is O(maxPoints)");
});

test("report - recorder downsampling keeps each bucket's extremes and is deterministic", () => {
  const f = (i: number) => Math.sin(i / 7) + (i % 13 === 0 ? 0.5 : 0);
  const a = pointsOf(feed(5000, f));
  const b = pointsOf(feed(5000, f));
  assert.deepEqual(a, b);
  const all = Array.from({ length: 5000 }, (_, k) => f(k + 1));
  assert.ok(a.some((p) => p.value === Math.max(...all)));
  assert.ok(a.some((p) => p.value === Math.min(...all)));
  assert.ok(a.length <= 64);
});

test("report - recorder counts NaN and Infinity without keeping them, and where they began", () => {
  const r = createLossRecorder();
  const vals = [1, Number.NaN, 0.9, Number.POSITIVE_INFINITY, null, 0.8];
  vals.forEach((v, i) => r.add({ stage: 1, attempt: 2, step: i + 1, losses: { sft: v } }));
  const t = r.series(1)[0]!.terms.sft!;
  assert.equal(r.series(1)[0]!.attempt, 2);
  assert.deepEqual(t.points.map((p) => p.value), [1, 0.9, 0.8]);
  assert.equal(t.non_finite, 3);
  assert.equal(t.first_non_finite_step, 2);
});

test("report - recorder skips steps a resumed trainer repeats, so the curve stays a function of the step", () => {
  const r = createLossRecorder();
  for (let i = 1; i <= 150; i++) r.add({ stage: 1, attempt: 1, step: i, losses: { sft: 3 - i / 100 } });
  // The trainer died at 150 and resumed from its checkpoint at step 100.
  for (let i = 101; i <= 200; i++) r.add({ stage: 1, attempt: 1, step: i, losses: { sft: 3.001 - i / 100 } });
  const t = r.series(1)[0]!.terms.sft!;
  assert.equal(t.replayed, 50);
  assert.equal(t.points.length, 200);
  for (let k = 1; k < t.points.length; k++) assert.ok(t.points[k]!.step > t.points[k - 1]!.step);
  assert.equal(t.points[199]!.value, 3.001 - 2);
});

test("report - recorder splits by stage, attempt and term, and ignores everything that is not progress", () => {
  const r = createLossRecorder();
  const events: ReportEvent[] = [
    { type: "progress", stage: 1, attempt: 1, step: 1, steps: 2, losses: { total: 2, sft: 2 } },
    { type: "progress", stage: 1, attempt: 1, step: 1, steps: 2, losses: { total: 2, sft: 2 } }, // a repeat
    { type: "progress", stage: 1, attempt: 2, step: 1, steps: 2, losses: { sft: 1.5 } },
    { type: "phase", stage: 2, attempt: 1, phase: "training" },
    { type: "progress", stage: 2, attempt: 1, step: 5, steps: 9, losses: { route: 0.7, vit: 0.3 } },
  ];
  for (const e of events) r.handle(e);
  for (const junk of [null, undefined, 42, { stage: 9, attempt: 1, step: 1, losses: {} }, { stage: 1, attempt: 0, step: 1, losses: { a: 1 } }, { stage: 1, attempt: 1, step: "x", losses: {} }, { stage: 1, attempt: 1, step: 3, losses: { "<bad name>": 1, ok: "str" } }]) {
    assert.doesNotThrow(() => r.add(junk as never));
  }
  assert.deepEqual(r.stages(), [1, 2]);
  const s1 = r.series(1);
  assert.deepEqual(s1.map((a) => [a.attempt, Object.keys(a.terms)]), [[1, ["total", "sft"]], [2, ["sft"]]]);
  assert.equal(s1[0]!.terms.total!.points.length, 1, "the repeated report is kept once");
  assert.deepEqual(Object.keys(r.series(2)[0]!.terms), ["route", "vit"]);
  assert.deepEqual(r.series(3), []);
});

test("report - recorder state survives JSON and a restored recorder continues exactly", () => {
  const f = (i: number) => 2 + Math.cos(i / 11) * Math.exp(-i / 900);
  const whole = feed(3000, f);
  const first = feed(1234, f);
  const restored = createLossRecorder({ restore: JSON.parse(JSON.stringify(first.toJSON())) });
  assert.equal(restored.maxPoints, 64);
  for (let i = 1235; i <= 3000; i++) restored.add({ stage: 1, attempt: 1, step: i, losses: { total: f(i) } });
  assert.deepEqual(restored.series(1), whole.series(1));
  const junk = createLossRecorder({ restore: { format: "troupe-losses/1", max_points: 64, series: { "1/1/total": { n: "x" } as never, "nonsense": {} as never } } });
  assert.deepEqual(junk.stages(), []);
});
