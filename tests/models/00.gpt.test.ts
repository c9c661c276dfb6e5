// models - the GPT backbone: hidden-state capture at any set of layers and the logit lens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, M, TINY, batch, bitwiseEqual, tinyGpt } from "./helpers.js";

test("gpt - captureHidden returns exactly the requested layers, equal to a full forward", () => {
  const model = tinyGpt(1);
  const { idx } = batch(2, 8, TINY.vocabSize, 2);
  const full = model.forwardWithHidden(idx, { capture: "all" });
  const got = M.captureHidden(model, idx, [0, 2]);
  assert.deepEqual([...got.hidden.keys()], [0, 2]);
  assert.ok(bitwiseEqual(got.hidden.get(0)!.f32(), full.hidden[0]!.f32()));
  assert.ok(bitwiseEqual(got.hidden.get(2)!.f32(), full.hidden[2]!.f32()));
  assert.ok(bitwiseEqual(got.logits.f32(), full.logits.f32()));
  assert.deepEqual([...got.hidden.get(2)!.shape], [2, 8, TINY.nEmbd]);
  assert.equal(got.logits.requiresGrad, false, "capture without grad records nothing");
});

test("gpt - the logit lens of the last layer is the model's logits; earlier layers decode too", () => {
  const model = tinyGpt(3);
  const { idx } = batch(2, 8, TINY.vocabSize, 4);
  const { logits, hidden } = M.captureHidden(model, idx, [1, TINY.nLayer]);
  assert.ok(bitwiseEqual(K.noGrad(() => M.logitLens(model, hidden.get(TINY.nLayer)!, TINY.nLayer)).f32(), logits.f32()));
  const early = K.noGrad(() => M.logitLens(model, hidden.get(1)!, 1));
  assert.deepEqual([...early.shape], [2, 8, TINY.vocabSize]);
  assert.ok(!bitwiseEqual(early.f32(), logits.f32()), "layer 1 decodes to different logits");
});

test("gpt - captured states can carry gradients when asked", () => {
  const model = tinyGpt(5);
  const { idx } = batch(1, 8, TINY.vocabSize, 6);
  const { hidden } = M.captureHidden(model, idx, [1], { grad: true });
  const loss = K.mean(K.square(hidden.get(1)!));
  K.backward(loss);
  assert.ok(model.namedParameters().find(([n]) => n === "h.0.qkv.weight")![1].grad, "gradient reached block 0");
});

test("gpt - a layer outside 0..nLayer or a state of the wrong width is a typed error", () => {
  const model = tinyGpt(0);
  const { idx } = batch(1, 4, TINY.vocabSize, 1);
  assert.throws(() => M.captureHidden(model, idx, [3]), (e) => M.isModelConfigError(e) && /layer 3 is outside 0\.\.2/.test(e.message));
  assert.throws(() => M.logitLens(model, K.zeros([1, 4, 7])), (e) => M.isModelConfigError(e) && /16 channels/.test(e.message));
  assert.throws(() => M.createGpt({ nEmbd: 10, nHead: 4 }), (e) => M.isModelConfigError(e) && /multiple of nHead/.test(e.message));
});

test("gpt - config digests depend on the architecture, weight digests on the values", () => {
  const a = tinyGpt(0);
  const b = tinyGpt(1);
  assert.equal(M.configDigest(a.config), M.configDigest(b.config));
  assert.notEqual(M.configDigest(a.config), M.configDigest({ ...TINY, nLayer: 3 }));
  assert.notEqual(M.weightsDigest(a), M.weightsDigest(b));
  assert.equal(M.weightsDigest(a), M.weightsDigest(tinyGpt(0)));
});
