// models - the heads' forward and backward on the kernels' autograd, checked against central
// differences: route/vitality classifier with the confidence-weighted CE, the depth residual
// with its KL (+ hidden similarity), the semantic projection's BCE + L1, and the transfer
// adapter's cosine + MSE + KL of resumed logits. Plus the registry's file round trip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, M, TINY, batch, bitwiseEqual, tinyGpt } from "../helpers.js";

/** Compares d loss / d p from backward with central differences at a few entries of every parameter. */
function gradCheck(params: [string, K.Tensor][], loss: () => K.Tensor, what: string, probes = 4, eps = 1e-2): void {
  for (const [, p] of params) p.grad = null;
  K.backward(loss());
  const rng = K.createRng(5);
  for (const [name, p] of params) {
    const g = p.grad?.f32();
    assert.ok(g, `${what}: ${name} got a gradient`);
    const d = p.f32();
    for (let k = 0; k < probes; k++) {
      const i = rng.int(d.length);
      const v = d[i]!;
      d[i] = v + eps;
      const up = K.noGrad(() => loss().item());
      d[i] = v - eps;
      const down = K.noGrad(() => loss().item());
      d[i] = v;
      const num = (up - down) / (2 * eps);
      const tol = 2e-3 + 3e-2 * Math.max(Math.abs(num), Math.abs(g[i]!));
      assert.ok(Math.abs(num - g[i]!) <= tol, `${what}: d/d ${name}[${i}] analytic ${g[i]} vs numeric ${num}`);
    }
  }
}

const rng = K.createRng(3);
const randn = (shape: number[], std = 1) => K.randn(shape, rng, std);

test("heads - classifier + confidence-weighted CE: gradients, and a zero confidence removes a token", () => {
  const head = M.createHead({ kind: "route", layer: 1, inFeatures: 6, hidden: 5, outputs: M.ROUTE_CLASSES, extra: 0, normRef: 1 }, 1) as unknown as M.ClassifierHead;
  const x = randn([7, 6]);
  const y = Int32Array.of(0, 1, 2, 3, 0, 1, 2);
  const c = Float32Array.of(1, 0.5, 0.9, 0.7, 1, 0.6, 0.8);
  gradCheck(head.namedParameters(), () => M.weightedCrossEntropy(head.forward(x), y, c), "route head");
  const c0 = Float32Array.from(c);
  c0[3] = 0;
  const y2 = Int32Array.from(y);
  y2[3] = 0; // a different label where the weight is 0 changes nothing
  const a = K.noGrad(() => M.weightedCrossEntropy(head.forward(x), y, c0).item());
  const b = K.noGrad(() => M.weightedCrossEntropy(head.forward(x), y2, c0).item());
  assert.equal(a, b);
  assert.throws(() => M.weightedCrossEntropy(head.forward(x), y, new Float32Array(7)), (e) => M.isModelConfigError(e) && /every confidence is 0/.test(e.message));
});

test("heads - depth residual: starts as the logit lens exactly; KL and hidden-similarity gradients", () => {
  const model = tinyGpt(2, { nLayer: 3 });
  model.freeze();
  const { idx } = batch(2, 8, TINY.vocabSize, 4);
  const out = K.noGrad(() => model.forwardWithHidden(idx, { capture: "all" }));
  const C = TINY.nEmbd;
  const rows = (i: number) => K.reshape(K.clone(out.hidden[i]!), [16, C]);
  const r = M.createHead({ kind: "depth", layer: 2, channels: C, rank: 3 }, 7) as unknown as M.DepthResidual;
  const states = [0, 1, 2].map(rows);
  assert.ok(bitwiseEqual(K.noGrad(() => r.forward(states)).f32(), states[2]!.f32()), "untrained: z = h_2");
  const teacher = K.reshape(K.clone(out.logits), [16, TINY.vocabSize]);
  for (const [, p] of r.namedParameters()) for (let i = 0; i < p.size; i++) p.f32()[i]! += rng.normal(0, 0.05);
  gradCheck(r.namedParameters(), () => M.depthLoss(model, r.forward(states), teacher, { hiddenWeight: 0.5, finalHidden: rows(3) }).loss, "depth residual");
  assert.throws(() => M.depthLoss(model, states[2]!, teacher, { hiddenWeight: 1 }), (e) => M.isModelConfigError(e) && /h_L/.test(e.message));
  assert.throws(() => r.forward(states.slice(0, 2)), (e) => M.isModelConfigError(e) && /mixes 3 states/.test(e.message));
});

test("heads - semantic BCE + L1: gradients; the L1 term pushes activations down", () => {
  const head = M.createHead({ kind: "semantic", layer: 1, inFeatures: 6, hidden: 5, outputs: M.STEP_VOCABULARY, extra: 0, normRef: 1 }, 3) as unknown as M.ClassifierHead;
  const P = M.STEP_VOCABULARY.length;
  const x = randn([5, 6]);
  const y = K.tensor(Array.from({ length: 5 * P }, (_, i) => (i % 3 === 0 ? 1 : 0)), [5, P]);
  gradCheck(head.namedParameters(), () => M.semanticLoss(head.forward(x), y, 0.1).loss, "semantic head");
  const plain = K.noGrad(() => M.semanticLoss(head.forward(x), y, 0));
  const withL1 = K.noGrad(() => M.semanticLoss(head.forward(x), y, 0.5));
  assert.ok(Math.abs(withL1.loss.item() - plain.loss.item() - 0.5 * plain.sparsity.item()) < 1e-5);
});

test("heads - transfer adapter: cosine + MSE + KL of resumed logits, gradients into encoder and decoder", () => {
  const model = tinyGpt(6, { nLayer: 3 });
  model.freeze();
  const { idx } = batch(2, 8, TINY.vocabSize, 9);
  const out = K.noGrad(() => model.forwardWithHidden(idx, { capture: [1] }));
  const h = K.reshape(K.clone(out.hidden[1]!), [16, TINY.nEmbd]);
  const teacher = K.clone(out.logits);
  const a = M.createHead({ kind: "transfer", layer: 1, channels: TINY.nEmbd, context: 2, latent: 6, bits: 8, hidden: 8 }, 4) as unknown as M.TransferAdapter;
  const ctx = randn([16, 2]);
  const mask = new Float32Array(16).fill(1);
  gradCheck(a.namedParameters(), () => {
    const { z, rms } = a.encode(h, ctx);
    return M.transferLoss(model, a, h, a.decode(z, rms), z, teacher, mask, { cos: 1, mse: 1, kl: 1, bitrate: 0.1 }).loss;
  }, "transfer adapter", 3);
  assert.equal(a.bytesPerToken, 6 + 4);
  assert.throws(() => a.encode(h, null), (e) => M.isModelConfigError(e) && /context \[16, 2\]/.test(e.message));
  assert.throws(() => M.createHead({ kind: "transfer", layer: 1, channels: 16, context: 0, latent: 4, bits: 4 as never, hidden: 8 }), (e) => M.isModelConfigError(e) && e.key === "heads.transfer.bits");
});

test("heads - a head set round-trips through its file; a foreign or newer file is refused", () => {
  const set: M.HeadSet = new Map();
  M.addHead(set, M.createHead({ kind: "route", layer: 1, inFeatures: 6, hidden: 4, outputs: M.ROUTE_CLASSES, extra: 0, normRef: 2.5 }, 1));
  M.addHead(set, M.createHead({ kind: "depth", layer: 2, channels: 16, rank: 2 }, 2));
  M.addHead(set, M.createHead({ kind: "transfer", layer: 1, channels: 16, context: 0, latent: 4, bits: 16, hidden: 8 }, 3));
  const bytes = M.serializeHeads(set);
  const back = M.parseHeads(bytes);
  assert.deepEqual([...back.keys()].sort(), [...set.keys()].sort());
  for (const [n, t] of M.headParameters(set)) assert.ok(bitwiseEqual(t.f32(), M.headParameters(back).find(([m]) => m === n)![1].f32()), n);
  assert.equal((M.headAt(back, "route", 1)!.spec as M.ClassifierSpec).normRef, 2.5);
  const foreign = K.serializeSafetensors([["x", K.zeros([1])]], { magic: "something-else" });
  assert.throws(() => M.parseHeads(foreign), (e) => M.isAdapterError(e) && /not a troupe heads file/.test(e.message));
  const newer = K.serializeSafetensors([["x", K.zeros([1])]], { magic: M.HEADS_MAGIC, version: "9", specs: "[]" });
  assert.throws(() => M.parseHeads(newer), (e) => M.isAdapterError(e) && /version 9/.test(e.message));
  assert.throws(() => M.createHead({ kind: "nope" } as never), (e) => M.isModelConfigError(e) && /unknown head kind/.test(e.message));
});
