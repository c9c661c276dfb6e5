// kernels - attention against a KV cache (the decoding path of groupedQueryAttention): prefill,
// one row at a time, left-padded rows, against the training forward and the reference kernels
// in every mode; rotary tables as Hugging Face computes them; the ops' argument errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose, fastModes, reference } from "./helpers.js";
import { native } from "../../kernels/native/load.js";

const modes = fastModes();

/** q, k, v of a GQA layer and a cache [B, S, KV*hs] holding k, v in its first T rows. */
function setup(B: number, T: number, H: number, KV: number, hs: number, S: number, seed = 5) {
  const rng = K.createRng(seed);
  const q = K.randn([B, T, H * hs], rng);
  const k = K.randn([B, T, KV * hs], rng);
  const v = K.randn([B, T, KV * hs], rng);
  const ck = K.zeros([B, S, KV * hs]);
  const cv = K.zeros([B, S, KV * hs]);
  for (let b = 0; b < B; b++) {
    ck.f32().set(k.f32().subarray(b * T * KV * hs, (b + 1) * T * KV * hs), b * S * KV * hs);
    cv.f32().set(v.f32().subarray(b * T * KV * hs, (b + 1) * T * KV * hs), b * S * KV * hs);
  }
  return { q, k, v, ck, cv };
}

const rowsOf = (t: K.Tensor, from: number, n: number): K.Tensor => K.contiguous(K.narrow(t, 1, from, n));

for (const [B, T, H, KV, hs] of [[1, 1, 1, 1, 2], [2, 7, 4, 2, 8], [1, 33, 6, 3, 17], [2, 40, 8, 2, 64]] as const) {
  test(`kernels - cached attention B=${B} T=${T} H=${H} KV=${KV} hs=${hs}: prefill and one row at a time equal the training forward, every mode`, () => {
    const S = T + 5;
    const { q, k, v, ck, cv } = setup(B, T, H, KV, hs, S);
    const want = reference(() => K.noGrad(() => K.groupedQueryAttention(q, k, v, H, KV).f32().slice()));
    for (const mode of ["reference", ...modes] as const) {
      K.withKernels({ mode }, () => K.noGrad(() => {
        native().debugPoisonScratch();
        const prefill = K.cachedAttention(q, ck, cv, { heads: H, kvHeads: KV, length: T });
        assertClose(prefill.f32(), want, 2e-5, 1e-4, `prefill [${mode}]`);
        // split: the first half as a prefill, then each row alone against a growing length
        const half = T >> 1;
        const parts: Float32Array[] = [];
        if (half > 0) parts.push(K.cachedAttention(rowsOf(q, 0, half), ck, cv, { heads: H, kvHeads: KV, length: half }).f32().slice());
        for (let t = half; t < T; t++) parts.push(K.cachedAttention(rowsOf(q, t, 1), ck, cv, { heads: H, kvHeads: KV, length: t + 1 }).f32().slice());
        // reassemble [B, T, H*hs] from per-step [B, n, H*hs] pieces
        const got = new Float32Array(B * T * H * hs);
        const C = H * hs;
        let t0 = 0;
        for (const p of parts) {
          const n = p.length / (B * C);
          for (let b = 0; b < B; b++) got.set(p.subarray(b * n * C, (b + 1) * n * C), (b * T + t0) * C);
          t0 += n;
        }
        assertClose(got, want, 2e-5, 1e-4, `incremental [${mode}]`);
      }));
    }
  });
}

test("kernels - cached attention with left padding: a row's result does not depend on the keys before its start", () => {
  const [H, KV, hs, T, pad] = [4, 2, 8, 9, 3];
  const alone = setup(1, T, H, KV, hs, T, 11);
  const want = reference(() => K.noGrad(() => K.groupedQueryAttention(alone.q, alone.k, alone.v, H, KV).f32().slice()));
  // the same row behind `pad` garbage positions, batched with an unpadded row of length T + pad
  const S = T + pad;
  const other = setup(1, S, H, KV, hs, S, 12);
  const q = K.zeros([2, S, H * hs]);
  const ck = K.zeros([2, S, KV * hs]);
  const cv = K.zeros([2, S, KV * hs]);
  const garbage = K.randn([pad * KV * hs], K.createRng(99), 50).f32();
  q.f32().set(other.q.f32(), 0);
  ck.f32().set(other.ck.f32(), 0);
  cv.f32().set(other.cv.f32(), 0);
  q.f32().set(alone.q.f32(), (S + pad) * H * hs);
  ck.f32().set(garbage, S * KV * hs);
  cv.f32().set(garbage, S * KV * hs);
  ck.f32().set(alone.k.f32(), (S + pad) * KV * hs);
  cv.f32().set(alone.v.f32(), (S + pad) * KV * hs);
  const wantOther = reference(() => K.noGrad(() => K.groupedQueryAttention(other.q, other.k, other.v, H, KV).f32().slice()));
  for (const mode of ["reference", ...modes] as const) {
    const got = K.withKernels({ mode }, () => K.noGrad(() => K.cachedAttention(q, ck, cv, { heads: H, kvHeads: KV, length: S, start: Int32Array.from([0, pad]) }).f32().slice()));
    const C = H * hs;
    assertClose(got.subarray(0, S * C), wantOther, 2e-5, 1e-4, `unpadded row [${mode}]`);
    assertClose(got.subarray((S + pad) * C), want, 2e-5, 1e-4, `padded row [${mode}]`);
    assert.ok(got.subarray(S * C, (S + pad) * C).every((x) => x === 0), `queries before the start give zeros [${mode}]`);
  }
});

test("kernels - rotary tables follow Hugging Face: inv_freq = 1/theta^(2i/hs) in float32, cos/sin of the float32 angle", () => {
  const t = new K.RotaryTable(8, 10000, null, 4);
  assert.deepEqual([...t.invFreq], [1, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513]);
  const { cos, sin } = t.tables(3);
  assert.equal(cos.shape[1], 4);
  assertClose(cos.f32().subarray(4, 8), [Math.cos(1), Math.cos(Math.fround(0.1)), Math.cos(Math.fround(0.01)), Math.cos(Math.fround(0.001))], 1e-7, 0, "cos at position 1");
  assertClose(sin.f32().subarray(8, 12), [Math.sin(2), Math.sin(Math.fround(0.2)), Math.sin(Math.fround(0.02)), Math.sin(Math.fround(0.002))], 1e-7, 0, "sin at position 2");
  assert.ok(t.tables(100).cos.shape[0]! >= 100, "the tables grow on demand");
  // llama3 scaling leaves high frequencies, divides low ones by the factor
  const s = new K.RotaryTable(64, 500000, { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 }, 1);
  const plain = K.rotaryInverseFrequencies(64, 500000);
  assert.equal(s.invFreq[0], plain[0]);
  assert.equal(s.invFreq[31], Math.fround(plain[31]! / 8));
  const lin = K.rotaryInverseFrequencies(64, 10000, { type: "linear", factor: 2 });
  assert.equal(lin[5], Math.fround(K.rotaryInverseFrequencies(64, 10000)[5]! / 2));
});

test("kernels - decoder ops refuse bad arguments with typed errors", () => {
  const rng = K.createRng(1);
  const { cos, sin } = new K.RotaryTable(4, 10000, null, 8).tables(8);
  assert.throws(() => K.rope(K.randn([2, 3, 12], rng), K.fromArray(new Int32Array(6), [2, 3]), cos, sin, 4), (e: unknown) => K.isShapeError(e) && /even head size/.test((e as Error).message));
  assert.throws(() => K.rope(K.randn([2, 3, 8], rng), K.fromArray(Int32Array.from([0, 1, 2, 3, 4, 8]), [2, 3]), cos, sin, 2), /positions.*\[0, 8\).*got 8/);
  assert.throws(() => K.rope(K.randn([2, 3, 8], rng), K.fromArray(new Int32Array(5), [5]), cos, sin, 2), /one position per row/);
  assert.throws(() => K.swiglu(K.randn([3], rng), K.randn([4], rng)), (e: unknown) => K.isShapeError(e));
  const q = K.randn([1, 4, 8], rng);
  assert.throws(() => K.groupedQueryAttention(q, K.randn([1, 4, 6], rng), K.randn([1, 4, 6], rng), 4, 3), /multiple of "kvHeads"/);
  assert.throws(() => K.groupedQueryAttention(q, K.randn([1, 4, 6], rng), K.randn([1, 4, 6], rng), 4, 2), /kvHeads \* head size = 2 \* 2 = 4, got 6/);
  const ck = K.zeros([1, 6, 4]);
  assert.throws(() => K.noGrad(() => K.cachedAttention(q, ck, ck, { heads: 4, kvHeads: 2, length: 7 })), /"length" to be an integer in \[4, 6\]/);
  const leafQ = K.randn([1, 1, 8], rng);
  leafQ.requiresGrad = true;
  assert.throws(() => K.cachedAttention(leafQ, ck, ck, { heads: 4, kvHeads: 2, length: 1 }), /for inference/);
});
