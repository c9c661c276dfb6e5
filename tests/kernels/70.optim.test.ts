// kernels - optimizers against PyTorch's update rules written out in plain JS (float64), the
// schedule, clipping, and optimizer state round trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose } from "./helpers.js";

function param(values: number[], grad: number[]): K.Tensor {
  const p = K.tensor(values);
  p.requiresGrad = true;
  p.grad = K.tensor(grad);
  return p;
}

test("optim - AdamW follows torch.optim.AdamW (decoupled decay, bias corrections)", () => {
  const p0 = [0.5, -1, 2, 0];
  const grads = [[0.1, -0.2, 0.3, 0], [0.05, 0.1, -0.3, 1e-3], [-0.2, 0.2, 0.1, -1]];
  const p = param(p0, grads[0]!);
  const opt = K.adamw([["p", p]], { lr: 0.01, betas: [0.9, 0.99], eps: 1e-6, weightDecay: 0.1 });
  const x = [...p0];
  const m = [0, 0, 0, 0];
  const v = [0, 0, 0, 0];
  grads.forEach((g, t) => {
    p.grad!.f32().set(g);
    opt.step();
    const step = t + 1;
    for (let i = 0; i < 4; i++) {
      x[i]! *= 1 - 0.01 * 0.1;
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.99 * v[i]! + 0.01 * g[i]! * g[i]!;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - 0.99 ** step) + 1e-6;
      x[i]! -= (0.01 / (1 - 0.9 ** step)) * (m[i]! / denom);
    }
    assertClose(p.f32(), x, 1e-6, 1e-6, `adamw step ${step}`);
  });
});

test("optim - Adam adds weight decay to the gradient; SGD momentum, dampening and Nesterov", () => {
  const p = param([1, -2], [0.5, 0.25]);
  K.adam([["p", p]], { lr: 0.1, weightDecay: 0.5 }).step();
  // g' = g + wd*p = [1, -0.75]; first step: m_hat = g', v_hat = g'^2 -> p -= lr * sign
  assertClose(p.f32(), [1 - 0.1 * (1 / (1 + 1e-8)), -2 + 0.1 * (0.75 / (0.75 + 1e-8))], 1e-6, 1e-6, "adam");

  const q = param([1, 2], [0.1, -0.1]);
  const sgd = K.sgd([["q", q]], { lr: 0.5, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 });
  const x = [1, 2];
  let buf: number[] = [];
  for (let t = 0; t < 3; t++) {
    q.grad!.f32().set([0.1 * (t + 1), -0.1]);
    sgd.step();
    const d = [0.1 * (t + 1) + 0.01 * x[0]!, -0.1 + 0.01 * x[1]!];
    buf = t === 0 ? d : buf.map((b, i) => 0.9 * b + 0.9 * d[i]!);
    for (let i = 0; i < 2; i++) x[i]! -= 0.5 * buf[i]!;
    assertClose(q.f32(), x, 1e-6, 1e-6, `sgd step ${t}`);
  }
  const n = param([1], [1]);
  const nest = K.sgd([["n", n]], { lr: 0.1, momentum: 0.5, nesterov: true });
  nest.step(); // buf = 1, d = 1 + 0.5 = 1.5
  nest.step(); // buf = 1.5, d = 1 + 0.75
  assertClose(n.f32(), [1 - 0.15 - 0.175], 1e-6, 1e-6, "nesterov");
  assert.throws(() => K.sgd([["n", n]], { nesterov: true }), /Nesterov momentum needs momentum > 0 and dampening 0/);
});

test("optim - a hand-set gradient of the wrong shape is an ArgumentError, not a native error", () => {
  const p = param([1, 2, 3], [1, 1, 1]);
  p.grad = K.tensor([1, 2]);
  assert.throws(() => K.adamw([["w", p]]).step(), (e: unknown) => K.isArgumentError(e) && /the gradient of "w" is f32 \[2\], expected contiguous f32 \[3\]/.test((e as Error).message));
});

test("optim - frozen parameters and missing gradients are skipped", () => {
  const a = param([1], [1]);
  const b = param([1], [1]);
  b.requiresGrad = false;
  const c = K.tensor([1]);
  c.requiresGrad = true; // no grad yet
  K.adamw([["a", a], ["b", b], ["c", c]], { lr: 0.1, weightDecay: 0 }).step();
  assert.notEqual(a.item(), 1);
  assert.equal(b.item(), 1);
  assert.equal(c.item(), 1);
});

test("optim - optimizer state is exposed by name and restores an identical continuation", () => {
  const make = () => {
    const model = new K.GPT({ vocabSize: 9, blockSize: 4, nEmbd: 8, nHead: 2, nLayer: 1 }, K.createRng(1));
    return { model, opt: K.adamw(model, { lr: 1e-2 }) };
  };
  const idx = K.randint([2, 4], 9, K.createRng(2));
  const step = (s: ReturnType<typeof make>) => {
    s.opt.zeroGrad();
    K.backward(s.model.loss(idx, idx).loss);
    s.opt.step();
  };
  const a = make();
  step(a);
  const state = a.opt.stateDict();
  assert.ok(state.has("exp_avg.h.0.qkv.weight") && state.has("exp_avg_sq.wte.weight") && state.has("step.ln_f.bias"));
  assert.equal(state.get("step.ln_f.bias")!.item(), 1);
  const b = make();
  b.model.loadStateDict(a.model.stateDict());
  const bytes = K.serializeSafetensors(state);
  b.opt.loadStateDict(K.parseSafetensors(bytes).tensors);
  step(a);
  step(b);
  for (const [n, p] of a.model.namedParameters()) assertClose(b.model.stateDict().get(n)!.f32(), p.f32(), 0, 0, n);
  assert.throws(() => b.opt.loadStateDict(new Map()), /missing optimizer state "exp_avg.wte.weight"/);
});

test("optim - cosine schedule with warm-up", () => {
  const lr = K.cosineWithWarmup({ maxLr: 1, minLr: 0.1, warmupSteps: 4, totalSteps: 14 });
  assert.deepEqual([0, 1, 3].map(lr), [0.25, 0.5, 1]);
  assert.ok(Math.abs(lr(9) - 0.55) < 1e-12);
  assert.equal(lr(14), 0.1);
  assert.equal(lr(100), 0.1);
  assert.throws(() => lr(-1), /Expected "step" to be a non-negative integer, got -1/);
});

test("optim - clipGradNorm scales by maxNorm / (norm + 1e-6) above the limit", () => {
  const a = param([0, 0], [3, 0]);
  const b = param([0], [4]);
  const norm = K.clipGradNorm([a, b], 1);
  assert.ok(Math.abs(norm - 5) < 1e-9);
  const k = 1 / (5 + 1e-6);
  assertClose([...a.grad!.f32(), ...b.grad!.f32()], [3 * k, 0, 4 * k], 1e-7, 1e-6, "clipped");
  assert.ok(Math.abs(K.clipGradNorm([a, b], 10) - 1) < 1e-6, "below the limit nothing changes");
  assertClose([...a.grad!.f32(), ...b.grad!.f32()], [3 * k, 0, 4 * k], 1e-7, 1e-6, "unchanged");
});
