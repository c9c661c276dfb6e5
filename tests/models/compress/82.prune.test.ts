// prune - masks and schedules (guards #12): the cubic ramp, magnitude and structured masks,
// masks kept through training and through a masks file, and the structural export of pruned
// MLP channels (the same function in a smaller config).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as D from "../../../data/mod.js";
import { K, M, maxAbsDiff, tempDir } from "../helpers.js";

const corpus = D.corpusFromText("to be or not to be, that is the question. ".repeat(300), { name: "hamlet" });
const small = () => M.createGpt({ nEmbd: 32, nLayer: 2, nHead: 4, blockSize: 32 }, 3);
const zeros = (a: Float32Array) => a.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
const p = (m: K.GPT, n: string) => m.namedParameters().find(([x]) => x === n)![1].f32();

test("prune - the cubic sparsity ramp", () => {
  const s = { initial: 0.1, final: 0.8, begin: 10, end: 110 };
  assert.equal(M.cubicSparsity(0, s), 0.1);
  assert.equal(M.cubicSparsity(10, s), 0.1);
  assert.ok(Math.abs(M.cubicSparsity(60, s) - (0.8 + (0.1 - 0.8) * 0.125)) < 1e-12);
  assert.equal(M.cubicSparsity(500, s), 0.8);
  const seq = Array.from({ length: 100 }, (_, i) => M.cubicSparsity(10 + i, s));
  assert.ok(seq.every((v, i) => i === 0 || v >= seq[i - 1]!), "monotone");
  assert.ok(seq[10]! - seq[0]! > seq[90]! - seq[80]!, "fast first, slow at the end");
  assert.throws(() => M.cubicSparsity(0, { final: 1, begin: 0, end: 10 }), /0 <= initial <= final < 1/);
});

test("prune - magnitude masks prune the smallest weights of each matrix; structured masks whole channels and heads", () => {
  const m = small();
  const masks = M.magnitudeMasks(m, 0.5);
  assert.equal(masks.size, 8);
  assert.equal(M.maskSparsity(masks), 0.5);
  const w = p(m, "h.0.fc.weight"), mk = masks.get("h.0.fc.weight")!;
  let keptMin = Infinity, prunedMax = 0;
  w.forEach((v, i) => (mk[i] ? (keptMin = Math.min(keptMin, Math.abs(v))) : (prunedMax = Math.max(prunedMax, Math.abs(v)))));
  assert.ok(prunedMax <= keptMin);
  const { masks: sm, plan } = M.structuredMasks(m, { channelSparsity: 0.25, headSparsity: 0.5 });
  assert.deepEqual(plan.channels.map((c) => c.length), [32, 32]);
  assert.deepEqual(plan.heads.map((h) => h.length), [2, 2]);
  M.applyMasks(m, sm);
  const fc = p(m, "h.1.fc.weight"), fp = p(m, "h.1.fc_proj.weight");
  for (const j of plan.channels[1]!) {
    assert.equal(zeros(fc.subarray(j * 32, j * 32 + 32)), 32);
    for (let r = 0; r < 32; r++) assert.equal(fp[r * 128 + j], 0);
  }
  const v = p(m, "h.0.qkv.weight");
  const h = plan.heads[0]![0]!;
  assert.equal(zeros(v.subarray((64 + h * 8) * 32, (64 + h * 8 + 8) * 32)), 256, "the head's v rows are zero");
});

test("prune - masks hold through training (re-applied every step) and through a masks file", async () => {
  using dir = tempDir();
  const m = small();
  const r = await M.trainCompressed({ model: m, corpus, steps: 40, batch: 8, lr: 3e-3, prune: { kind: "magnitude", schedule: { final: 0.6, begin: 0, end: 30 }, every: 5 } });
  assert.ok(Math.abs(M.maskSparsity(r.masks!) - 0.6) < 0.01);
  for (const [n, mk] of r.masks!) p(m, n).forEach((v, i) => mk[i] === 0 && assert.equal(v, 0, `${n}[${i}] stays pruned`));
  const file = join(dir.path, "masks.safetensors");
  writeFileSync(file, M.serializeMasks(r.masks!, { sparsity: "0.6" }));
  const back = M.readMasks(file);
  assert.equal(back.metadata.sparsity, "0.6");
  assert.deepEqual([...back.masks.keys()], [...r.masks!.keys()]);
  // continue training from the saved model with the saved masks: still pruned
  const again = M.copyGpt(m);
  await M.trainCompressed({ model: again, corpus, steps: 10, batch: 8, lr: 3e-3, masks: back.masks });
  for (const [n, mk] of back.masks) p(again, n).forEach((v, i) => mk[i] === 0 && assert.equal(v, 0));
  // and without the masks the same training would fill the zeros in (the check can fail)
  const free = M.copyGpt(m);
  await M.trainCompressed({ model: free, corpus, steps: 10, batch: 8, lr: 3e-3 });
  assert.ok(zeros(p(free, "h.0.fc.weight")) < zeros(p(again, "h.0.fc.weight")) / 2);
});

test("prune - dropping pruned MLP channels gives a smaller GPT computing the same function", () => {
  const m = small();
  m.eval();
  const { masks, plan } = M.structuredMasks(m, { channelSparsity: 0.5 });
  M.applyMasks(m, masks);
  const smaller = M.dropPrunedChannels(m, plan);
  assert.equal(smaller.config.mlpHidden, 64);
  assert.ok(M.countParameters(smaller) < M.countParameters(m));
  const idx = K.tensor(Array.from(corpus.val.subarray(0, 32)), [1, 32], "i32");
  const a = K.noGrad(() => m.forward(idx)).f32(), b = K.noGrad(() => smaller.forward(idx)).f32();
  assert.ok(maxAbsDiff(a, b) < 1e-5, `${maxAbsDiff(a, b)}`);
  // the smaller config survives a GGUF round trip (feed_forward_length)
  const back = M.gptFromGguf(K.parseGguf(M.gptToGguf(smaller, { type: "f32" }).bytes));
  assert.equal(back.config.mlpHidden, 64);
  assert.ok(maxAbsDiff(K.noGrad(() => back.forward(idx)).f32(), b) === 0);
});
