// distill - the fused distillation loss (guards #12): the KD vector of ../shared/fixtures,
// agreement with the composed ops (KL · T² and CE), the top-k teacher path, multi-teacher
// averaging, and typed errors. Gradients and every kernel mode: cases-compress.ts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { testNeeding } from "../harness/needs.js";
import { K, assertClose, leaf, sharedFixture, sharedMissing } from "./helpers.js";

testNeeding("distill - the KD vector of vectors.json: alpha 1 gives T²·KL, in every kernel mode", sharedMissing("vectors.json"), () => {
  const v = JSON.parse(readFileSync(sharedFixture("vectors.json")!, "utf8")).kd;
  const s = K.tensor(v.student_logits, [1, 3]);
  const t = K.tensor(v.teacher_logits, [1, 3]);
  for (const mode of ["reference", "portable", "auto"] as const) {
    K.withKernels({ mode }, () => {
      const kd = K.distillationLoss(s, t, null, { temperature: v.temperature, alpha: 1 }).item();
      assert.ok(Math.abs(kd - v.kl_times_T2) < 1e-5, `${mode}: ${kd} vs ${v.kl_times_T2}`);
      const top = K.topK(t, 3);
      const kdTop = K.distillationLossTopK(s, top, null, { temperature: v.temperature, alpha: 1 }).item();
      assert.ok(Math.abs(kdTop - v.kl_times_T2) < 1e-5, `${mode} top-k with k = V: ${kdTop}`);
      const half = K.distillationLoss(s, t, K.tensor([2], [1], "i32"), { temperature: v.temperature, alpha: 0.25 }).item();
      const ce = K.crossEntropy(s, K.tensor([2], [1], "i32")).item();
      assert.ok(Math.abs(half - (0.25 * v.kl_times_T2 + 0.75 * ce)) < 1e-5, `${mode} alpha 0.25`);
    });
  }
});

test("distill - the fused loss and its gradient equal alpha·T²·KL + (1 − alpha)·CE composed from ops", () => {
  const rng = K.createRng(5);
  const s1 = leaf(K.randn([4, 9, 31], rng, 2));
  const s2 = leaf(K.clone(s1));
  const t = K.randn([4, 9, 31], rng, 2);
  const y = K.randint([4, 9], 31, rng);
  y.i32()[3] = K.IGNORE_INDEX;
  const fused = K.distillationLoss(s1, t, y, { temperature: 3, alpha: 0.6 });
  K.backward(fused);
  // the composed form, over the kept rows only
  const keep = [...y.i32()].map((v, i) => (v === K.IGNORE_INDEX ? -1 : i)).filter((i) => i >= 0);
  const rows = K.reshape(s2, [36, 31]);
  const pick = (m: K.Tensor) => K.concat(keep.map((i) => K.narrow(m, 0, i, 1)), 0);
  const sKept = pick(rows);
  const tKept = pick(K.reshape(t, [36, 31]));
  const yKept = K.tensor(keep.map((i) => y.i32()[i]!), [keep.length], "i32");
  const composed = K.add(K.scale(K.klDivergence(sKept, tKept, { temperature: 3, scaleByTemperatureSquared: true }), 0.6), K.scale(K.crossEntropy(sKept, yKept), 0.4));
  K.backward(composed);
  assert.ok(Math.abs(fused.item() - composed.item()) < 1e-5, `${fused.item()} vs ${composed.item()}`);
  assertClose(s1.grad!.f32(), s2.grad!.f32(), 1e-6, 1e-4, "gradient");
});

test("distill - top-k: k = V equals the dense teacher; k < V equals a dense teacher that is -inf off its top k", () => {
  const rng = K.createRng(6);
  const s = K.randn([10, 40], rng, 2);
  const t = K.randn([10, 40], rng, 2);
  const y = K.randint([10], 40, rng);
  const dense = K.distillationLoss(s, t, y, { temperature: 2, alpha: 0.8 }).item();
  const full = K.distillationLossTopK(s, K.topK(t, 40), y, { temperature: 2, alpha: 0.8 }).item();
  assert.ok(Math.abs(dense - full) < 1e-5);
  const top = K.topK(t, 8);
  const masked = K.full([10, 40], -1e30);
  for (let r = 0; r < 10; r++) for (let k = 0; k < 8; k++) masked.f32()[r * 40 + top.indices.i32()[r * 8 + k]!] = top.values.f32()[r * 8 + k]!;
  const a = K.distillationLossTopK(s, top, y, { temperature: 2, alpha: 0.8 }).item();
  const b = K.distillationLoss(s, masked, y, { temperature: 2, alpha: 0.8 }).item();
  assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
  assert.ok(Math.abs(a - dense) > 1e-4, "dropping the tail changes the loss (the check can fail)");
});

test("distill - averaging teachers averages their tempered distributions", () => {
  const rng = K.createRng(7);
  const t1 = K.randn([3, 11], rng, 2), t2 = K.randn([3, 11], rng, 2);
  const avg = K.averageTeachers([t1, t2], 2);
  const p = (x: K.Tensor) => K.softmax(K.scale(x, 0.5)).f32();
  const want = p(t1).map((v, i) => 0.5 * v + 0.5 * p(t2)[i]!);
  assertClose(p(avg), want, 1e-6, 1e-5, "mean of softmax(t/T)");
  assertClose(p(K.averageTeachers([t1], 2)), p(t1), 1e-6, 1e-5, "one teacher is itself");
  const w = K.averageTeachers([t1, t2], 2, [0.9, 0.1]);
  assertClose(p(w), p(t1).map((v, i) => 0.9 * v + 0.1 * p(t2)[i]!), 1e-6, 1e-5, "weighted");
});

test("distill - bad arguments are typed errors naming the argument", () => {
  const s = K.randn([2, 5], K.createRng(1));
  assert.throws(() => K.distillationLoss(s, K.randn([2, 4], K.createRng(1)), null, { alpha: 1 }), (e: unknown) => K.isShapeError(e));
  assert.throws(() => K.distillationLoss(s, s, null, { alpha: 0.5 }), /Expected "targets" for the hard-label term/);
  assert.throws(() => K.distillationLoss(s, s, null, { alpha: 1.5 }), /"alpha" to be a number in \[0, 1\]/);
  assert.throws(() => K.distillationLoss(s, s, null, { alpha: 1, temperature: 0 }), /"temperature" to be a positive number/);
  const dup = { indices: K.tensor([1, 1, 0, 2], [2, 2], "i32"), values: K.randn([2, 2], K.createRng(2)) };
  assert.throws(() => K.distillationLossTopK(s, dup, null, { alpha: 1 }), /distinct class ids per row, got 1 twice in row 0/);
  assert.throws(() => K.topK(s, 6), /at most V = 5/);
});
