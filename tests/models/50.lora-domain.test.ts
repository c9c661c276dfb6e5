// models - the quickstart's stages 0-1 in small: a base pretrained on some prompt-pack domains
// does not know an unseen one (copying); a LoRA adapter trained on it with the base frozen
// raises that domain's held-out exact match over the base. Also the library surface the
// director uses: progress callbacks and an AbortSignal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { M, bitwiseEqual } from "./helpers.js";

const pack = { trainPerCell: 300, heldOutPerCell: 30, difficulties: ["easy" as const] };

test("lora-domain - an adapter on an unseen domain beats the frozen base on held-out exact match", async () => {
  const progress: number[] = [];
  const base = await M.pretrainBase({
    domains: ["arithmetic", "reversal", "sorting"], steps: 1200, batch: 32, lr: 3e-3, warmupSteps: 20, minLr: 3e-4, seed: 1,
    config: { nEmbd: 64, nLayer: 2, nHead: 4, blockSize: 48 }, pack,
    onProgress: (p) => progress.push(p.step),
  });
  assert.equal(progress.length, 1200, "a progress callback per step");
  assert.ok(base.exactMatch.accuracy > 0.3, `the base learned its own domains (${base.exactMatch.accuracy})`);
  const frozen = new Map(base.model.namedParameters().map(([n, t]) => [n, Float32Array.from(t.f32())]));

  const r = await M.trainAdapter({ base: base.model, domains: ["copying"], lora: { rank: 8 }, steps: 500, batch: 32, lr: 3e-3, warmupSteps: 10, minLr: 3e-4, seed: 1, pack });
  assert.equal(r.baseExactMatch.overall.n, 30);
  assert.ok(r.adaptedExactMatch.accuracy > r.baseExactMatch.accuracy + 0.15,
    `adapted ${r.adaptedExactMatch.accuracy} vs base ${r.baseExactMatch.accuracy}; mistakes: ${JSON.stringify(r.adaptedExactMatch.examples)}`);
  for (const [n, t] of r.model.namedParameters()) {
    if (!M.isAdapterParam(n)) assert.ok(bitwiseEqual(t.f32(), frozen.get(n)!), `${n} stayed frozen`);
  }
  assert.ok(r.trainableParameters > 0 && r.trainableParameters < M.countParameters(r.model) / 5);
});

test("lora-domain - an AbortSignal stops pretraining promptly", async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(M.pretrainBase({ domains: ["copying"], steps: 100, signal: ac.signal, config: { nEmbd: 16, nLayer: 1, nHead: 2 }, pack: { trainPerCell: 10, heldOutPerCell: 2 } }),
    (e) => M.isTrainingAbortedError(e) && e.step === 0);
});
