// models - KV-cached decoding for every architecture: the cached forward equals the full
// forward position by position; generation and batched greedy decoding give the uncached
// tokens; the window shift past the context is exactly "the forward of the kept context";
// a forward split across two caches (resumed continuation) equals the whole one. (issue 9)
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { K, M, hfFixtures, maxAbsDiff, tinyGpt, tinyLlama } from "./helpers.js";

const models: [string, () => M.CausalLM][] = [
  ["gpt2", () => tinyGpt(1, { blockSize: 16 })],
  ["llama (grouped-query)", () => tinyLlama(2)],
  ["llama (fixture: linear rope scaling, 6 heads / 2 kv heads)", () => M.loadHfModel(join(hfFixtures, "llama-gqa")).model],
  ["llama (fixture: head_dim 6, biases, llama3 rope)", () => M.loadHfModel(join(hfFixtures, "llama-bias")).model],
];

/** Columns [t0, t0 + n) of an i32 [B, T] tensor. */
function cols(idx: K.Tensor, t0: number, n: number): K.Tensor {
  const [B, T] = idx.shape as [number, number];
  const out = new Int32Array(B * n);
  for (let b = 0; b < B; b++) out.set(idx.i32().subarray(b * T + t0, b * T + t0 + n), b * n);
  return K.fromArray(out, [B, n]);
}

function lastRow(logits: K.Tensor, b: number): Float32Array {
  const [, T, V] = logits.shape as [number, number, number];
  return logits.f32().slice((b * T + T - 1) * V, (b * T + T) * V);
}

for (const [name, make] of models) {
  test(`kv-cache - ${name}: prefill then one token at a time equals the full forward at every position`, () => {
    const model = make();
    const { vocabSize: V, maxPositions: W } = model.dims;
    const T = Math.min(W, 12);
    const idx = K.randint([2, T], V, K.createRng(3));
    const full = K.noGrad(() => model.forward(idx)).f32();
    const cache = model.createCache(2, T);
    const prefix = 5;
    const rows = (t0: number, n: number) => cols(idx, t0, n);
    const got: Float32Array[] = [];
    K.noGrad(() => {
      got.push(model.forwardCached(rows(0, prefix), cache).f32().slice());
      for (let t = prefix; t < T; t++) got.push(model.forwardCached(rows(t, 1), cache).f32().slice());
    });
    assert.equal(cache.length, T);
    // reassemble [2, T, V]
    const asm = new Float32Array(2 * T * V);
    for (let b = 0; b < 2; b++) {
      asm.set(got[0]!.subarray(b * prefix * V, (b + 1) * prefix * V), b * T * V);
      for (let t = prefix; t < T; t++) asm.set(got[t - prefix + 1]!.subarray(b * V, (b + 1) * V), (b * T + t) * V);
    }
    assert.ok(maxAbsDiff(asm, full) < 1e-4, `cached vs full ${maxAbsDiff(asm, full)}`);
  });

  test(`kv-cache - ${name}: generate with the cache gives the uncached tokens (greedy and sampled)`, () => {
    const model = make();
    const V = model.dims.vocabSize;
    const prompt = Int32Array.from([1, 2, 3].map((x) => x % V));
    const n = model.dims.maxPositions - prompt.length; // all within the context
    for (const opts of [{ temperature: 0 }, { temperature: 0.8, topK: 10, seed: 4 }]) {
      const plain = M.generate(model, prompt, { ...opts, maxTokens: n, cache: false });
      const cached = M.generate(model, prompt, { ...opts, maxTokens: n });
      assert.deepEqual([...cached], [...plain], JSON.stringify(opts));
    }
  });

  test(`kv-cache - ${name}: batched greedy decoding of ragged prompts (left padding, early stops) gives the uncached tokens`, () => {
    const model = make();
    const V = model.dims.vocabSize;
    const rng = K.createRng(5);
    const prompts = [1, 4, 3, 5, 2].map((len) => Int32Array.from({ length: len }, () => rng.int(V)));
    const maxTokens = model.dims.maxPositions - 5; // every row stays within the context
    const stopToken = M.greedyBatch(model, prompts, { maxTokens, stopToken: -1, cache: false })[2]![1]!; // row 2 emits it second
    const opts = { maxTokens, stopToken, batch: 4 };
    const plain = M.greedyBatch(model, prompts, { ...opts, cache: false });
    const cached = M.greedyBatch(model, prompts, opts);
    assert.deepEqual(cached.map((r) => [...r]), plain.map((r) => [...r]));
    assert.ok(plain.some((r) => r.length < opts.maxTokens), "some row stopped early");
  });
}

test("kv-cache - past the context the cached window shifts by a quarter: each token is the forward of the kept context", () => {
  const model = tinyLlama(7, { maxPositions: 16 });
  const W = 16, keep = W - W / 4;
  const prompt = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
  const n = 40;
  const got = M.generate(model, prompt, { maxTokens: n, temperature: 0 });
  // the reference: the cache holds seq[from..]; a full cache restarts from the last `keep` tokens
  const seq = Array.from(prompt);
  let from = Math.max(0, seq.length - W);
  const want: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      seq.push(want[i - 1]!);
      if (seq.length - 1 - from >= W) from = seq.length - keep;
    }
    const ctx = seq.slice(from);
    const logits = K.noGrad(() => model.forward(K.fromArray(Int32Array.from(ctx), [1, ctx.length])));
    const row = lastRow(logits, 0);
    want.push(row.indexOf(Math.max(...row)));
  }
  assert.deepEqual([...got], want);
});

for (const [name, make] of models.slice(0, 2)) {
  test(`kv-cache - ${name}: a forward split at a layer across two caches (resumed continuation) equals the whole one`, () => {
    const model = make();
    const { vocabSize: V, layers: L } = model.dims;
    const split = Math.max(1, L - 1);
    const idx = K.randint([1, 10], V, K.createRng(8));
    const whole = model.createCache(1, 10);
    const sender = model.createCache(1, 10);
    const receiver = model.createCache(1, 10);
    K.noGrad(() => {
      for (const [t0, n] of [[0, 6], [6, 1], [7, 1], [8, 2]] as const) {
        const part = cols(idx, t0, n);
        const want = model.forwardCached(part, whole).f32().slice();
        const hidden = model.prefixCached(part, split, sender);
        const got = model.resumeCached(K.clone(hidden), split, receiver).f32();
        assert.ok(maxAbsDiff(got, want) < 1e-5, `rows ${t0}..${t0 + n}: ${maxAbsDiff(got, want)}`);
      }
    });
    assert.deepEqual([...receiver.lengths].slice(split), new Array(L - split).fill(10), "the receiver filled only the layers it ran");
    assert.ok([...receiver.lengths].slice(0, split).every((l) => l === 0));
  });
}

test("kv-cache - the cached path is inference-only and bounded by its capacity", () => {
  const model = tinyLlama(9);
  const cache = model.createCache(1, 4);
  const idx = K.fromArray(Int32Array.from([1, 2, 3]), [1, 3]);
  assert.throws(() => model.forwardCached(idx, cache), /cached attention is for inference/);
  const c2 = model.createCache(1, 4);
  K.noGrad(() => model.forwardCached(idx, c2));
  assert.throws(() => K.noGrad(() => model.forwardCached(idx, c2)), /3 new positions do not fit: the cache holds 3 of 4/);
  assert.throws(() => tinyGpt(1, { blockSize: 8 }).createCache(1, 9), /8 learned positions; a cache of 9 cannot be filled/);
});
