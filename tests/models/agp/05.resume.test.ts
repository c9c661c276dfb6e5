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

test("resume - a decoder-style model (dims, no GPT config) works through the same narrow view", () => {
  const gpt = tinyGpt(4, { nLayer: 3 });
  const view: M.LayeredModel = {
    dims: { vocabSize: TINY.vocabSize, hidden: TINY.nEmbd, layers: 3, maxPositions: TINY.blockSize },
    forwardWithHidden: (idx, o) => gpt.forwardWithHidden(idx, o),
    embed: (idx) => gpt.embed(idx),
    runBlocks: (h, a, b) => gpt.runBlocks(h, a, b),
    logitLens: (h) => gpt.logitLens(h),
    resumeFrom: (h, l) => gpt.resumeFrom(h, l),
    namedParameters: () => gpt.namedParameters(),
    get training() { return gpt.training; },
    train: (on) => gpt.train(on),
    eval: () => gpt.eval(),
  };
  assert.deepEqual(M.dimsOf(view), { layers: 3, channels: TINY.nEmbd, vocab: TINY.vocabSize, positions: TINY.blockSize });
  const { idx } = batch(2, 8, TINY.vocabSize, 5);
  const rows = M.measureFidelity(view, [{ idx, mask: new Float32Array(16).fill(1) }], { layers: [2], codecs: ["raw-f32"] });
  assert.equal(rows[0]!.kl_mean, 0);
  const o = M.observeBatch(view, idx, new Float32Array(16).fill(1), { candidates: [1, 2] });
  assert.equal(o.n, 16);
  assert.throws(() => M.dimsOf({ ...view, dims: undefined } as M.LayeredModel), (e) => M.isModelConfigError(e) && /neither dims/.test(e.message));
});
