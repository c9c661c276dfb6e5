// kernels - backward's onLeafGrad: each parameter reported once, as soon as its gradient is
// final, so a data-parallel sync can send it while backward goes on (guards #13).
import { test } from "node:test";
import assert from "node:assert/strict";
import { K } from "./helpers.js";

test("autograd - onLeafGrad reports every parameter once, with its final gradient, last layers first", () => {
  const rng = K.createRng(3);
  const model = new K.GPT({ vocabSize: 17, blockSize: 8, nEmbd: 16, nHead: 2, nLayer: 2 }, rng);
  const idx = K.randint([3, 8], 17, rng);
  const targets = K.randint([3, 8], 17, rng);
  const params = model.namedParameters();
  const names = new Map(params.map(([n, t]) => [t, n]));
  // a first micro-batch accumulates, the hook watches the second (gradients keep adding up)
  K.backward(model.loss(idx, targets).loss);
  const seen: [string, Float32Array][] = [];
  K.backward(model.loss(idx, targets).loss, { onLeafGrad: (leaf) => seen.push([names.get(leaf)!, leaf.grad!.f32().slice()]) });
  assert.equal(seen.length, params.length, "every parameter, once");
  assert.equal(new Set(seen.map(([n]) => n)).size, params.length);
  for (const [name, atReport] of seen) {
    const final = params.find(([n]) => n === name)![1].grad!.f32();
    assert.deepEqual(atReport, final, `${name} did not change after it was reported`);
  }
  const order = seen.map(([n]) => n);
  assert.ok(order.indexOf("ln_f.weight") < order.indexOf("h.0.qkv.weight"), "the last layers are final first");
  assert.equal(order.at(-1), "wte.weight", "the tied embedding is used first in forward, so it is final last");
});

test("autograd - without onLeafGrad nothing is reported and gradients are unchanged", () => {
  const rng = K.createRng(4);
  const a = new K.GPT({ vocabSize: 11, blockSize: 4, nEmbd: 8, nHead: 2, nLayer: 1 }, K.createRng(1));
  const b = new K.GPT({ vocabSize: 11, blockSize: 4, nEmbd: 8, nHead: 2, nLayer: 1 }, K.createRng(1));
  const idx = K.randint([2, 4], 11, rng);
  K.backward(a.loss(idx, idx).loss);
  let calls = 0;
  K.backward(b.loss(idx, idx).loss, { onLeafGrad: () => calls++ });
  assert.ok(calls > 0);
  for (const [[n, x], [, y]] of a.namedParameters().map((p, i) => [p, b.namedParameters()[i]!] as const)) assert.deepEqual(x.grad!.f32(), y.grad!.f32(), n);
});
