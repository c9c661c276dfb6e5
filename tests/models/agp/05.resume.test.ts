// models - resuming the forward pass from a residual-stream index: the same logits bit for bit
// as the uninterrupted forward (what raw-f32 transfer relies on), and runBlocks's range checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, M, TINY, batch, bitwiseEqual, tinyGpt } from "../helpers.js";

test("resume - resumeFrom(hidden at i, i) equals the full forward bit for bit at every index", () => {
  const model = tinyGpt(11, { nLayer: 3 });
  const { idx } = batch(3, 8, TINY.vocabSize, 12);
  const full = model.forwardWithHidden(idx, { capture: "all" });
  for (let i = 0; i <= 3; i++) {
    const got = K.noGrad(() => model.resumeFrom(K.clone(full.hidden[i]!), i));
    assert.ok(bitwiseEqual(got.f32(), full.logits.f32()), `index ${i}`);
  }
  const mid = K.noGrad(() => model.runBlocks(K.clone(full.hidden[1]!), 1, 2));
  assert.ok(bitwiseEqual(mid.f32(), full.hidden[2]!.f32()));
});

test("resume - gradients flow through resumeFrom into the state", () => {
  const model = tinyGpt(1);
  const { idx } = batch(1, 8, TINY.vocabSize, 3);
  const h = K.noGrad(() => K.clone(model.forwardWithHidden(idx, { capture: [1] }).hidden[1]!));
  h.requiresGrad = true;
  K.backward(K.mean(model.resumeFrom(h, 1)));
  assert.ok(h.grad && h.grad.f32().some((v) => v !== 0));
});

test("resume - a range outside the model or a state of the wrong width is a typed error", () => {
  const model = tinyGpt(0);
  const h = K.zeros([1, 4, TINY.nEmbd]);
  assert.throws(() => model.runBlocks(h, 2, 1), (e) => K.isKernelError(e) && /from <= to <= 2/.test(e.message));
  assert.throws(() => model.resumeFrom(h, 3), (e) => K.isKernelError(e) && /from 3/.test(e.message));
  assert.throws(() => model.resumeFrom(K.zeros([1, 4, 7]), 1), (e) => K.isKernelError(e) && /\[B, T, 16\]/.test(e.message));
  const m: M.LayeredModel = model;
  assert.throws(() => M.checkIndices(m, "layers", [0, 5]), (e) => M.isModelConfigError(e) && /outside 0\.\.2/.test(e.message));
});
