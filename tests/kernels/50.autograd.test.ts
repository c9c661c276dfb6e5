// kernels - the autograd tape: op tags, accumulation, noGrad, frozen parameters, determinism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose } from "./helpers.js";

const tiny = { vocabSize: 11, blockSize: 6, nEmbd: 8, nHead: 2, nLayer: 2 };

test("autograd - each node carries its op tag and inputs", () => {
  const x = K.tensor([1, 2, 3]);
  x.requiresGrad = true;
  const y = K.sum(K.gelu(x));
  assert.equal(y.node?.op, "sum");
  assert.equal(y.node?.inputs[0]?.node?.op, "gelu");
  assert.equal(y.node?.inputs[0]?.node?.inputs[0], x);
  assert.equal(x.node, null);
});

test("autograd - a value used twice gets both contributions (diamond)", () => {
  const x = K.tensor([0.5, -1.5, 2]);
  x.requiresGrad = true;
  K.backward(K.sum(K.mul(K.tanh(x), x)));
  const expected = x.toArray().map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
  assertClose(x.grad!.f32(), expected, 1e-6, 1e-5, "d/dx x*tanh(x)");
});

test("autograd - gradients accumulate across micro-batches until zeroGrad", () => {
  const rng = K.createRng(7);
  const model = new K.GPT(tiny, rng);
  const idx = K.randint([4, 6], 11, rng);
  const tgt = K.randint([4, 6], 11, rng);
  K.backward(model.loss(idx, tgt).loss);
  const full = model.namedParameters().map(([n, p]) => [n, p.grad!.f32().slice()] as const);
  model.zeroGrad();
  for (const half of [0, 1]) {
    const rows = (t: K.Tensor) => K.narrow(t, 0, 2 * half, 2);
    K.backward(K.scale(model.loss(rows(idx), rows(tgt)).loss, 0.5));
  }
  const byName = new Map(model.namedParameters());
  for (const [n, g] of full) assertClose(byName.get(n)!.grad!.f32(), g, 1e-6, 1e-4, `accumulated ${n}`);
  model.zeroGrad();
  assert.ok(model.parameters().every((p) => p.grad!.f32().every((v) => v === 0)));
});

test("autograd - noGrad records nothing and detach stops the gradient", () => {
  const w = K.randn([3, 3], K.createRng(1));
  w.requiresGrad = true;
  const x = K.randn([2, 3], K.createRng(2));
  const y = K.noGrad(() => K.linear(x, w));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  assert.equal(K.isGradEnabled(), true);
  const z = K.sum(K.mul(K.linear(x, w), K.detach(K.linear(x, w))));
  K.backward(z);
  // d/dw sum(y * const) with const = y: grad = const^T x
  const c = K.noGrad(() => K.linear(x, w));
  const want = K.noGrad(() => K.matmul(c, x, { transA: true }));
  assertClose(w.grad!.f32(), want.f32(), 1e-6, 1e-5, "detached branch");
});

test("autograd - frozen parameters get no gradient (a LoRA-style frozen base)", () => {
  const rng = K.createRng(3);
  const model = new K.GPT(tiny, rng);
  model.freeze();
  const qkv = model.getModule("h.0.qkv") as K.Linear;
  qkv.weight.requiresGrad = true;
  const idx = K.randint([2, 6], 11, rng);
  K.backward(model.loss(idx, idx).loss);
  for (const [n, p] of model.namedParameters()) {
    if (n === "h.0.qkv.weight") assert.ok(p.grad && p.grad.f32().some((v) => v !== 0), n);
    else assert.equal(p.grad, null, `${n} is frozen`);
  }
});

test("autograd - backward twice needs retainGraph; non-scalars need a gradient", () => {
  const x = K.tensor([1, 2]);
  x.requiresGrad = true;
  const y = K.sum(K.exp(x));
  K.backward(y, { retainGraph: true });
  K.backward(y);
  assertClose(x.grad!.f32(), [2 * Math.E, 2 * Math.E ** 2], 1e-5, 1e-6, "twice");
  assert.throws(() => K.backward(y), (e: unknown) => K.isAutogradError(e) && /already used by a backward pass/.test((e as Error).message));
  assert.throws(() => K.backward(K.exp(x)), /pass \{ grad \} for a tensor with more than one element/);
  assert.throws(() => K.backward(K.tensor([1])), /does not require grad/);
  const v = K.exp(x);
  x.grad = null;
  K.backward(v, { grad: K.tensor([1, 0]) });
  assertClose(x.grad!.f32(), [Math.E, 0], 1e-6, 1e-6, "explicit grad");
});

function trainBits(threads: number, blas: K.BlasSetting): Float32Array[] {
  return K.withKernels({ threads, blas }, () => {
    const rng = K.createRng(11);
    const model = new K.GPT({ vocabSize: 29, blockSize: 16, nEmbd: 32, nHead: 4, nLayer: 2 }, rng);
    const opt = K.adamw(model, { lr: 1e-2 });
    const idx = K.randint([5, 16], 29, rng);
    const tgt = K.randint([5, 16], 29, rng);
    const ws = K.workspace();
    for (let i = 0; i < 3; i++) {
      ws.run(() => {
        opt.zeroGrad();
        K.backward(model.loss(idx, tgt).loss);
        K.clipGradNorm(model, 1.0);
        opt.step();
      });
    }
    return model.parameters().map((p) => p.f32().slice());
  });
}

test("autograd - training is bitwise deterministic (same inputs, same thread count)", () => {
  assert.deepEqual(trainBits(2, "force"), trainBits(2, "force"));
  assert.deepEqual(trainBits(2, false), trainBits(2, false));
});

test("autograd - without the BLAS, results are bitwise equal for any thread count", () => {
  const two = trainBits(2, false);
  assert.deepEqual(trainBits(1, false), two);
  assert.deepEqual(trainBits(3, false), two);
});
