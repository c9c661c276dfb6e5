// qat - quantization-aware training (guards #12): wrapping keeps parameter names, the Q4_0 QAT
// forward is exactly what the Q4_0 export computes, progressive widths and the soft STE's
// temperature follow the clock, ternary QAT trains without diverging, and removeQat restores
// plain layers.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as D from "../../../data/mod.js";
import { K, M, maxAbsDiff } from "../helpers.js";

const text = "the quick brown fox jumps over the lazy dog. ".repeat(400);
const corpus = D.corpusFromText(text, { name: "fox" });
const small = () => M.createGpt({ nEmbd: 32, nLayer: 2, nHead: 2, blockSize: 32 }, 5);

function logits(m: K.GPT): Float32Array {
  const idx = K.tensor(Array.from(corpus.val.subarray(0, 32)), [1, 32], "i32");
  return K.noGrad(() => m.forward(idx)).f32().slice();
}

test("qat - wrapping keeps names; the Q4_0 QAT forward equals the Q4_0 export's model", () => {
  const m = small();
  const names = m.namedParameters().map(([n]) => n);
  const { targets } = M.applyQat(m, { format: "q4_0" });
  assert.deepEqual(targets, ["h.0.qkv", "h.0.proj", "h.0.fc", "h.0.fc_proj", "h.1.qkv", "h.1.proj", "h.1.fc", "h.1.fc_proj"]);
  assert.deepEqual(m.namedParameters().map(([n]) => n), names);
  m.eval();
  const qat = logits(m);
  M.removeQat(m);
  // the export quantises the same latent weights the same way (embeddings: Q8_0 in a Q4_0 file,
  // so compare against a model whose embeddings are those too)
  const exported = M.dequantizedCopy(m, "q4_0");
  const emb = new Map(exported.namedParameters().filter(([n]) => n === "wte.weight" || n === "wpe.weight"));
  const same = M.copyGpt(m);
  for (const [n, p] of same.namedParameters()) if (emb.has(n)) p.f32().set(emb.get(n)!.f32());
  M.applyQat(same, { format: "q4_0" });
  same.eval();
  assert.ok(maxAbsDiff(logits(same), logits(exported)) < 1e-5, "QAT forward = exported model");
  assert.ok(maxAbsDiff(qat, logits(m)) > 1e-4, "and differs from the f32 model (the check can fail)");
});

test("qat - progressive bit widths and the soft quantiser's temperature follow the clock", () => {
  const m = small();
  const { clock } = M.applyQat(m, { format: "int", bits: 8, progressive: [[0, 8], [10, 4], [20, 2]], softness: { from: 1, to: 0.01 }, granularity: "channel" });
  const layer = m.getModule("h.0.fc") as M.QuantLinear;
  clock.totalSteps = 30;
  const widths = [0, 9, 10, 19, 20, 29].map((s) => ((clock.step = s), layer.bits()));
  assert.deepEqual(widths, [8, 8, 4, 4, 2, 2]);
  clock.step = 0;
  assert.ok(Math.abs(layer.softness()! - 1) < 1e-12);
  clock.step = 15;
  assert.ok(Math.abs(layer.softness()! - 0.1) < 1e-9, "geometric: halfway is sqrt(1 · 0.01)");
  const hard = small();
  const h = M.applyQat(hard, { format: "int", progressive: [[0, 8], [10, 2]] });
  const hl = hard.getModule("h.0.fc") as M.QuantLinear;
  const levels = () => new Set(Array.from(K.noGrad(() => hl.quantizedWeight()).f32().subarray(0, 32)).map((v) => v.toFixed(5))).size;
  assert.ok(levels() > 3, `8 bits at step 0: ${levels()} levels in a channel`);
  h.clock.step = 10;
  assert.ok(levels() <= 3, `2 bits from step 10: ${levels()} levels in a channel`);
  assert.throws(() => M.applyQat(small(), { format: "int", bits: 1 }), /bit widths in 2..8/);
  assert.throws(() => M.applyQat(small(), { format: "nf4" as never }), /expected one of q4_0, q8_0, int, ternary, sign/);
});

test("qat - ternary (1.58-bit) QAT trains without diverging; removeQat bakes or keeps latent weights", async () => {
  const m = small();
  const before = M.validationLoss(m, corpus);
  const { clock } = M.applyQat(m, { format: "ternary" });
  const losses: number[] = [];
  const r = await M.trainCompressed({ model: m, corpus, steps: 60, batch: 8, lr: 3e-3, warmupSteps: 5, qatClock: clock, onProgress: (p) => losses.push(p.loss) });
  assert.ok(losses.every(Number.isFinite));
  assert.ok(r.valLoss < before - 0.5, `ternary QAT learns: ${before} → ${r.valLoss}`);
  assert.equal(clock.step, 60);
  const baked = M.copyGpt(m);
  const w = (g: K.GPT) => g.namedParameters().find(([n]) => n === "h.0.fc.weight")![1].f32();
  const kept = Float32Array.from(w(m));
  M.removeQat(m, { bake: true });
  const vals = new Set(Array.from(w(m)).map((v) => Math.abs(v).toFixed(6)));
  assert.ok(vals.size <= 2, `baked ternary weights take |w| in {0, γ}: ${vals.size} values`);
  assert.notDeepEqual(w(m), kept);
  assert.equal(m.namedModules().some(([, x]) => x instanceof M.QuantLinear), false);
  void baked;
});
