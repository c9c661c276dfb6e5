// models - LoRA and DoRA: a no-op at the start, gradients only for the adapter, DoRA's detached
// norm (finite differences and a direct computation), merging, target patterns, adapter files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { K, M, TINY, batch, bitwiseEqual, maxAbsDiff, perturbAdapter, tempDir, tinyGpt } from "./helpers.js";

test("lora - A random, B zero: the adapted model computes exactly what the base did", () => {
  for (const dora of [false, true]) {
    const model = tinyGpt(1);
    const { idx } = batch(2, 8, TINY.vocabSize, 2);
    const before = K.noGrad(() => model.forward(idx)).f32();
    M.applyLora(model, { rank: 4, alpha: 8, dora });
    const after = K.noGrad(() => model.forward(idx)).f32();
    assert.ok(maxAbsDiff(before, after) < (dora ? 1e-6 : 1e-30), `dora=${dora}`);
    const A = model.namedParameters().find(([n]) => n === "h.0.qkv.lora_A")![1];
    assert.ok(A.f32().some((v) => v !== 0), "A is random");
    assert.ok(model.namedParameters().find(([n]) => n === "h.0.qkv.lora_B")![1].f32().every((v) => v === 0), "B is zero");
  }
});

test("lora - only adapter tensors get gradients; the base is frozen", () => {
  const model = tinyGpt(2);
  const applied = M.applyLora(model, { rank: 2, targets: ["qkv", "fc"] });
  assert.deepEqual(applied.targets, ["h.0.qkv", "h.0.fc", "h.1.qkv", "h.1.fc"]);
  perturbAdapter(model, 3);
  const { idx, targets } = batch(2, 8, TINY.vocabSize, 4);
  K.backward(model.loss(idx, targets).loss);
  for (const [n, p] of model.namedParameters()) {
    if (M.isAdapterParam(n)) assert.ok(p.grad && p.grad.f32().some((v) => v !== 0), `${n} has a gradient`);
    else assert.equal(p.grad, null, `${n} is frozen`);
  }
  assert.equal(M.adapterParameters(model).length, 8);
});

test("lora - target patterns: a bare name is the last segment; dotted patterns match paths", () => {
  assert.ok(M.matchesTarget("h.0.fc", "fc") && !M.matchesTarget("h.0.fc_proj", "fc"));
  assert.ok(M.matchesTarget("h.3.proj", "proj") && !M.matchesTarget("h.3.fc_proj", "proj"));
  assert.ok(M.matchesTarget("h.1.fc_proj", "h.*.fc_proj") && !M.matchesTarget("h.1.fc", "h.*.fc_proj"));
  assert.ok(M.matchesTarget("h.0.qkv", "h.0.qkv") && !M.matchesTarget("h.10.qkv", "h.1.qkv"));
  const model = tinyGpt(0);
  assert.deepEqual(M.applyLora(model, { rank: 1, targets: ["h.1.*"] }).targets, ["h.1.qkv", "h.1.proj", "h.1.fc", "h.1.fc_proj"]);
  assert.throws(() => M.applyLora(tinyGpt(0), { rank: 1, targets: ["mlp"] }), (e) => M.isModelConfigError(e) && /qkv, proj, fc, fc_proj/.test(e.message));
  assert.throws(() => M.applyLora(tinyGpt(0), { rank: 0 }), (e) => M.isModelConfigError(e) && /"rank" to be a positive integer, got 0/.test(e.message));
  assert.throws(() => M.applyLora(model, { rank: 1 }), (e) => M.isAdapterError(e) && /already has adapters/.test(e.message));
});

test("lora - the update is scale * B(A x) with scale alpha/r", () => {
  const base = new K.Linear(6, 5, K.createRng(1));
  const layer = new M.LoraLinear(base, M.resolveLoraConfig({ rank: 2, alpha: 6 }), K.createRng(2), K.createRng(3));
  perturbAdapter(layer as unknown as K.GPT, 4);
  const x = K.randn([3, 6], K.createRng(5));
  const y = K.noGrad(() => layer.forward(x)).f32();
  const W = base.weight.f32(), b = base.bias!.f32(), A = layer.A.f32(), B = layer.B.f32(), xs = x.f32();
  for (let i = 0; i < 3; i++) {
    for (let o = 0; o < 5; o++) {
      let want = b[o]!;
      for (let k = 0; k < 6; k++) want += W[o * 6 + k]! * xs[i * 6 + k]!;
      for (let r = 0; r < 2; r++) {
        let ax = 0;
        for (let k = 0; k < 6; k++) ax += A[r * 6 + k]! * xs[i * 6 + k]!;
        want += 3 * B[o * 2 + r]! * ax;
      }
      assert.ok(Math.abs(y[i * 5 + o]! - want) < 1e-5, `y[${i},${o}] = ${y[i * 5 + o]}, want ${want}`);
    }
  }
});

// DoRA in float64: y = (m / n) ⊙ (x Vᵀ) + b with V = W + s·B·A and n given (detached) or ‖V‖ per row.
function doraDirect(W: Float64Array, b: Float32Array, A: Float64Array, B: Float64Array, m: Float64Array, x: Float32Array, s: number, dims: { N: number; C: number; O: number; r: number }, nFixed?: Float64Array) {
  const { N, C, O, r } = dims;
  const V = new Float64Array(O * C);
  for (let o = 0; o < O; o++) for (let k = 0; k < C; k++) {
    let ba = 0;
    for (let j = 0; j < r; j++) ba += B[o * r + j]! * A[j * C + k]!;
    V[o * C + k] = W[o * C + k]! + s * ba;
  }
  const n = nFixed ?? Float64Array.from({ length: O }, (_, o) => Math.hypot(...V.subarray(o * C, o * C + C)));
  const y = new Float64Array(N * O);
  for (let i = 0; i < N; i++) for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let k = 0; k < C; k++) acc += V[o * C + k]! * x[i * C + k]!;
    y[i * O + o] = (m[o]! / n[o]!) * acc + b[o]!;
  }
  return { y, n };
}

test("dora - forward equals m·V/‖V‖ computed directly; gradients match finite differences with the norm held fixed", () => {
  const dims = { N: 3, C: 6, O: 5, r: 2 };
  const base = new K.Linear(dims.C, dims.O, K.createRng(11)).freeze();
  const layer = new M.DoraLinear(base, M.resolveLoraConfig({ rank: 2, alpha: 4, dora: true }), K.createRng(12), K.createRng(13));
  perturbAdapter(layer as unknown as K.GPT, 14, 0.3);
  const x = K.randn([dims.N, dims.C], K.createRng(15));
  const R = K.randn([dims.N, dims.O], K.createRng(16));
  const y = layer.forward(x);
  const W = Float64Array.from(base.weight.f32());
  const A = Float64Array.from(layer.A.f32()), B = Float64Array.from(layer.B.f32()), m = Float64Array.from(layer.magnitude.f32());
  const direct = doraDirect(W, base.bias!.f32(), A, B, m, x.f32(), 2, dims);
  assert.ok(maxAbsDiff(y.f32(), direct.y) < 1e-5, "forward");
  // merged weight: x W'ᵀ + b is the same function
  const merged = K.linear(x, layer.mergedWeight(), base.bias);
  assert.ok(maxAbsDiff(merged.f32(), direct.y) < 1e-5, "merged weight");

  K.backward(K.sum(K.mul(y, R)));
  const objective = (a: Float64Array, bb: Float64Array, mm: Float64Array) => {
    const out = doraDirect(W, base.bias!.f32(), a, bb, mm, x.f32(), 2, dims, direct.n).y;
    let s = 0;
    R.f32().forEach((rv, i) => (s += rv * out[i]!));
    return s;
  };
  const eps = 1e-6;
  for (const [name, vals, grad] of [["lora_A", A, layer.A.grad!], ["lora_B", B, layer.B.grad!], ["lora_magnitude", m, layer.magnitude.grad!]] as const) {
    for (let i = 0; i < vals.length; i++) {
      const plus = Float64Array.from(vals); plus[i]! += eps;
      const minus = Float64Array.from(vals); minus[i]! -= eps;
      const args = (v: Float64Array): [Float64Array, Float64Array, Float64Array] => name === "lora_A" ? [v, B, m] : name === "lora_B" ? [A, v, m] : [A, B, v];
      const fd = (objective(...args(plus)) - objective(...args(minus))) / (2 * eps);
      assert.ok(Math.abs(grad.f32()[i]! - fd) < 2e-4 * Math.max(1, Math.abs(fd)), `${name}[${i}]: autograd ${grad.f32()[i]}, finite differences ${fd}`);
    }
  }
  assert.equal(base.weight.grad, null, "base weight frozen");
});

test("lora - merging fuses the adapter: the merged model equals the adapted one within 1e-5", () => {
  for (const dora of [false, true]) {
    const model = tinyGpt(21);
    M.applyLora(model, { rank: 3, alpha: 6, dora, targets: ["qkv", "proj", "fc", "fc_proj"] });
    perturbAdapter(model, 22, 0.3);
    const { idx } = batch(2, 8, TINY.vocabSize, 23);
    const adapted = K.noGrad(() => model.forward(idx)).f32();
    const names = M.mergeAdapters(model);
    assert.equal(names.length, 8);
    assert.equal(M.adapterOf(model), null);
    assert.deepEqual(model.namedParameters().map(([n]) => n), tinyGpt(0).namedParameters().map(([n]) => n), "plain names again");
    const merged = K.noGrad(() => model.forward(idx)).f32();
    assert.ok(maxAbsDiff(adapted, merged) < 1e-5, `dora=${dora}: ${maxAbsDiff(adapted, merged)}`);
  }
});

test("lora - adapter dropout acts in training mode only and is seeded from the model's dropout RNG", () => {
  const model = tinyGpt(31);
  M.applyLora(model, { rank: 4, dropout: 0.5 });
  perturbAdapter(model, 32);
  const { idx } = batch(1, 8, TINY.vocabSize, 33);
  model.eval();
  const e1 = K.noGrad(() => model.forward(idx)).f32();
  const e2 = K.noGrad(() => model.forward(idx)).f32();
  assert.ok(bitwiseEqual(e1, e2));
  model.train();
  const state = model.dropoutRng.state();
  const t1 = K.noGrad(() => model.forward(idx)).f32();
  model.dropoutRng.setState(state);
  const t2 = K.noGrad(() => model.forward(idx)).f32();
  assert.ok(!bitwiseEqual(t1, e1), "dropout changes the output");
  assert.ok(bitwiseEqual(t1, t2), "same RNG state, same masks");
});

test("lora - adapter files round-trip and refuse another base", async () => {
  using dir = tempDir();
  const path = join(dir.path, "adapter.safetensors");
  const model = tinyGpt(41);
  M.applyLora(model, { rank: 2, alpha: 4, dora: true, targets: ["qkv", "fc_proj"] });
  perturbAdapter(model, 42);
  await M.saveAdapter(model, path);
  const { idx } = batch(2, 8, TINY.vocabSize, 43);
  const want = K.noGrad(() => model.forward(idx)).f32();

  const fresh = tinyGpt(41);
  const applied = await M.loadAdapter(fresh, path);
  assert.deepEqual(applied.targets, ["h.0.qkv", "h.0.fc_proj", "h.1.qkv", "h.1.fc_proj"]);
  assert.equal(applied.config.dora, true);
  assert.ok(bitwiseEqual(K.noGrad(() => fresh.forward(idx)).f32(), want));
  const file = M.parseAdapter(M.serializeAdapter(model));
  assert.deepEqual([...file.tensors.keys()].every((n) => M.isAdapterParam(n)), true, "only adapter tensors in the file");

  await assert.rejects(M.loadAdapter(tinyGpt(99), path), (e) => M.isAdapterError(e) && /other base weights/.test(e.message));
  await assert.rejects(M.loadAdapter(tinyGpt(41, { nLayer: 3 }), path), (e) => M.isAdapterError(e) && /another config/.test(e.message));
  await assert.rejects(M.loadAdapter(tinyGpt(41), join(dir.path, "missing.safetensors")), (e) => M.isAdapterError(e) && /ENOENT/.test(e.message));
  const { tensors, metadata } = K.parseSafetensors(M.serializeAdapter(model));
  const wrongVersion = K.serializeSafetensors(tensors, { ...metadata, version: "2" });
  await assert.rejects(M.loadAdapter(tinyGpt(41), wrongVersion), (e) => M.isAdapterError(e) && /version 2, this troupe reads version 1/.test(e.message));
  const plain = K.serializeSafetensors(tinyGpt(41).namedParameters());
  await assert.rejects(M.loadAdapter(tinyGpt(41), plain), (e) => M.isAdapterError(e) && /not a troupe adapter/.test(e.message));
  await assert.rejects(M.loadAdapter(tinyGpt(41), new Uint8Array(5)), (e) => M.isAdapterError(e) && /not an adapter file/.test(e.message));
});
