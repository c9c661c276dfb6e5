// models - the metrics and baselines the gates use, on cases with known answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { M } from "../helpers.js";

test("metrics - accuracy, per-class and macro F1, confusion", () => {
  const s = M.classScores([0, 0, 1, 1, 2], [0, 1, 1, 1, 2], 3);
  assert.equal(s.accuracy, 0.8);
  assert.deepEqual(s.confusion, [[1, 0, 0], [1, 2, 0], [0, 0, 1]]);
  assert.ok(Math.abs(s.f1[0]! - 2 / 3) < 1e-12 && Math.abs(s.f1[1]! - 0.8) < 1e-12 && s.f1[2] === 1);
  assert.ok(Math.abs(s.macroF1 - (2 / 3 + 0.8 + 1) / 3) < 1e-12);
  assert.ok(Number.isNaN(M.classScores([0], [0], 2).f1[1]!), "a class absent from both sides has no F1 and is left out of the mean");
});

test("metrics - ECE is 0 for calibrated bins and |acc - conf| otherwise", () => {
  // two samples at confidence 0.75, one right one wrong: acc 0.5 vs conf 0.75
  const probs = Float32Array.of(0.75, 0.25, 0.75, 0.25);
  const cal = M.expectedCalibrationError(probs, [0, 1], 2, 10);
  assert.ok(Math.abs(cal.ece - 0.25) < 1e-6);
  assert.equal(cal.bins.length, 1);
  const perfect = M.expectedCalibrationError(Float32Array.of(1, 0, 0, 1), [0, 1], 2);
  assert.ok(perfect.ece < 1e-6);
});

test("metrics - AUROC: 1 separated, 0.5 constant, ties count a half, NaN with one class", () => {
  assert.equal(M.auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(M.auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.equal(M.auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.equal(M.auroc([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1]), 0.875);
  assert.ok(Number.isNaN(M.auroc([0.1, 0.2], [1, 1])));
});

test("metrics - multi-label micro F1 and activity", () => {
  const m = M.multiLabelScores([1, 0, 1, 1], [1, 0, 0, 1], 2, 2);
  assert.ok(Math.abs(m.microF1 - 0.8) < 1e-12);
  assert.equal(m.activePerSample, 1.5);
});

test("baselines - majority class and entropy-only routing fitted on training labels", () => {
  const maj = M.majorityClass([2, 2, 1, 0, 2], 4);
  assert.equal(maj.cls, 2);
  assert.deepEqual([...maj.predict([0, 0])], [2, 2]);
  // low entropy → class 0, high → class 3: a threshold the bins find
  const ent = Array.from({ length: 40 }, (_, i) => i / 40);
  const y = ent.map((e) => (e < 0.5 ? 0 : 3));
  const fit = M.fitEntropyRouting(ent, y, 4, 8);
  assert.deepEqual([...fit.predict([0.05, 0.3, 0.7, 0.99, -1, 5])], [0, 0, 3, 3, 0, 3]);
  assert.throws(() => M.fitEntropyRouting([], [], 4), (e) => M.isModelConfigError(e));
});
