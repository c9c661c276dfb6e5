// ptq and distill - calibrated post-training quantisation and distillation training (guards
// #12): W8A8 with calibrated activations stays near f32 and percentile calibration beats
// min-max at 4-bit activations; a student distilled from a teacher (dense, top-k, two teachers
// averaged) ends closer to it than the same student trained on labels alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as D from "../../../data/mod.js";
import { testNeeding } from "../../harness/needs.js";
import { K, M } from "../helpers.js";
import { shakespeareMissing, shakespeareModel } from "./shakespeare.js";

const missing = shakespeareMissing();

testNeeding("ptq - W8A8 with calibrated activations stays near f32; percentile calibration beats min-max at 4-bit activations", missing, async () => {
  const { model, corpus } = await shakespeareModel();
  const calib = D.evalWindows(corpus.train.subarray(0, 20000), { batch: 8, block: 64 }).slice(0, 4);
  const f32 = M.validationLoss(model, corpus, 8);
  const run = (cfg: M.PtqConfig) => {
    const m = M.copyGpt(model);
    const ranges = M.applyPtq(m, calib, cfg);
    return { loss: M.validationLoss(m, corpus, 8), ranges };
  };
  const w8a8 = run({ weights: "q8_0", activations: { bits: 8, calibration: { kind: "percentile", percentile: 99.99 } } });
  assert.ok(w8a8.loss < f32 * 1.02, `W8A8 ${w8a8.loss} vs f32 ${f32}`);
  assert.equal(w8a8.ranges.size, 8);
  const mm = run({ weights: { bits: 8 }, activations: { bits: 4, calibration: { kind: "minmax" } } });
  const pc = run({ weights: { bits: 8 }, activations: { bits: 4, calibration: { kind: "percentile", percentile: 99 } } });
  assert.ok(pc.loss < mm.loss, `percentile ${pc.loss} vs min-max ${mm.loss}`);
  for (const [path, r] of pc.ranges) assert.ok(r!.max <= mm.ranges.get(path)!.max, `${path}: the percentile range is inside min-max`);
  assert.throws(() => M.applyPtq(M.copyGpt(model), [], { weights: "q4_0", activations: { bits: 8, calibration: { kind: "minmax" } } }), /needs calibration batches/);
});

testNeeding("distill - distilled students end closer to the teacher than the same student on hard labels; top-k and two teachers work", missing, async () => {
  const { model: teacher, corpus } = await shakespeareModel();
  const student = () => M.createGpt({ nEmbd: 32, nLayer: 2, nHead: 2, blockSize: 64 }, 21);
  const common = { corpus, steps: 80, batch: 8, lr: 3e-3, warmupSteps: 5, valBatches: 6 };
  // KL at the distillation temperature (what KD minimises; hard labels do not see the teacher)
  const kl = (s: K.GPT) => {
    const idx = K.tensor(Array.from(corpus.val.subarray(0, 4 * 64)), [4, 64], "i32");
    return K.noGrad(() => K.klDivergence(s.forward(idx), teacher.forward(idx), { temperature: 2 })).item();
  };
  const hard = student();
  await M.trainCompressed({ ...common, model: hard });
  const dense = student();
  await M.trainCompressed({ ...common, model: dense, distill: { teachers: [teacher], temperature: 2, alpha: 0.9 } });
  const top = student();
  const rTop = await M.trainCompressed({ ...common, model: top, distill: { teachers: [teacher], temperature: 2, alpha: 0.9, topK: 16 } });
  assert.equal(rTop.topK, 16);
  const two = student();
  const other = M.copyGpt(teacher);
  await M.trainCompressed({ ...common, model: two, distill: { teachers: [teacher, other], temperature: { from: 3, to: 2 }, alpha: { from: 1, to: 0.9 } } });
  const k = { hard: kl(hard), dense: kl(dense), top: kl(top), two: kl(two) };
  assert.ok(k.dense < k.hard && k.top < k.hard && k.two < k.hard, `KL to the teacher: ${JSON.stringify(k)}`);
  await assert.rejects(M.trainCompressed({ ...common, model: student(), distill: { teachers: [teacher], topK: 999 } }), /expected an integer in \[1, 256\]/);
});

test("distill - schedules interpolate linearly over training", () => {
  assert.equal(M.scheduled(3, 50, 100), 3);
  assert.equal(M.scheduled({ from: 4, to: 1 }, 0, 100), 4);
  assert.equal(M.scheduled({ from: 4, to: 1 }, 50, 100), 2.5);
  assert.equal(M.scheduled({ from: 4, to: 1 }, 500, 100), 1);
});
