// fake-quant - QAT ops and PTQ calibration (guards #12): grids per tensor / channel / ggml
// block, symmetric and asymmetric, the three STEs' gradients, the soft quantiser turning hard
// as its temperature falls, BitNet b1.58 ternary weights, 1-bit sign, 8-bit per-token
// activations, and min-max vs percentile observers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { K, assertClose, leaf } from "./helpers.js";

const distinct = (a: Float32Array) => new Set([...a].map((v) => v.toFixed(6))).size;

test("fake-quant - b-bit grids: per tensor, per channel, symmetric and asymmetric", () => {
  const x = K.tensor([-1, -0.6, 0.1, 0.4, 1, 2, 3, 4], [2, 4]);
  const s4 = K.fakeQuant(x, { bits: 4 }).f32(); // qmax 7, s = 4/7
  assertClose(s4, [-1, -0.6, 0.1, 0.4, 1, 2, 3, 4].map((v) => Math.round(v / (4 / 7)) * (4 / 7)), 1e-6, 0, "symmetric per tensor");
  const ch = K.fakeQuant(x, { bits: 2, granularity: "channel" }).f32(); // rows: s = 1 and 4
  assertClose(ch, [-1, -1, 0, 0, 0, 4, 4, 4], 1e-6, 0, "2-bit symmetric per channel is {-s, 0, s}");
  const asym = K.fakeQuant(K.tensor([0, 1, 2, 3]), { bits: 2, symmetric: false }).f32();
  assertClose(asym, [0, 1, 2, 3], 1e-6, 0, "asymmetric 2-bit uses all four levels");
  for (const bits of [8, 4, 2]) {
    const r = K.randn([16, 64], K.createRng(bits));
    const q = K.fakeQuant(r, { bits, granularity: "channel" }).f32();
    for (let row = 0; row < 16; row++) assert.ok(distinct(q.subarray(row * 64, row * 64 + 64)) <= 2 ** bits - 1, `${bits} bits: at most 2^b − 1 levels per channel`);
  }
});

test("fake-quant - ggml blocks: 4 bits is exactly the Q4_0 round trip, 8 bits Q8_0", () => {
  const w = K.randn([4, 64], K.createRng(3));
  assert.deepEqual(K.fakeQuant(w, { bits: 4, granularity: "block" }).f32(), K.roundTripBlocks(w.f32(), "q4_0"));
  assert.deepEqual(K.fakeQuant(w, { bits: 8, granularity: "block" }).f32(), K.roundTripBlocks(w.f32(), "q8_0"));
  assert.throws(() => K.fakeQuant(w, { bits: 2, granularity: "block" }), /8 \(Q8_0\) or 4 \(Q4_0\)/);
});

test("fake-quant - STE: plain passes every gradient, clipped stops it where a calibrated range clamps", () => {
  const vals = [-3, -0.2, 0.3, 0.9, 5];
  for (const ste of ["plain", "clipped"] as const) {
    const x = leaf(K.tensor(vals));
    K.backward(K.sum(K.fakeQuant(x, { bits: 4, ste, range: { min: -1, max: 1 } })));
    assert.deepEqual([...x.grad!.f32()], ste === "plain" ? [1, 1, 1, 1, 1] : [0, 1, 1, 1, 0], ste);
  }
});

test("fake-quant - the soft quantiser is smooth at a high temperature and hard rounding as it anneals", () => {
  const x = K.randn([256], K.createRng(4));
  const hard = K.fakeQuant(x, { bits: 3 }).f32();
  let prev = Infinity;
  for (const tau of [1, 0.3, 0.1, 0.03, 0.001]) {
    const soft = K.fakeQuant(x, { bits: 3, ste: "soft", softness: tau }).f32();
    let d = 0;
    for (let i = 0; i < 256; i++) d += Math.abs(soft[i]! - hard[i]!) / 256;
    assert.ok(d < prev, `the mean gap to hard rounding shrinks as τ falls (τ ${tau}: ${d})`);
    prev = d;
  }
  assert.ok(prev < 2e-3, `τ 0.001 is nearly hard rounding (only values within ~τ of a half-step differ): ${prev}`);
  assert.deepEqual(K.fakeQuant(x, { bits: 3, ste: "soft", softness: 1e-5 }).f32(), hard, "τ ≤ 1e-4 is hard rounding");
  // its gradient is φ'(f): compare with finite differences of the soft forward
  const t = leaf(K.tensor([0.05, 0.31, -0.77]));
  K.backward(K.sum(K.fakeQuant(t, { bits: 4, ste: "soft", softness: 0.2, range: { min: -1, max: 1 } })));
  for (let i = 0; i < 3; i++) {
    const h = 1e-3;
    const f = (v: number) => { const a = [0.05, 0.31, -0.77]; a[i] = v; return K.fakeQuant(K.tensor(a), { bits: 4, ste: "soft", softness: 0.2, range: { min: -1, max: 1 } }).f32()[i]!; };
    const base = [0.05, 0.31, -0.77][i]!;
    const fd = (f(base + h) - f(base - h)) / (2 * h);
    assert.ok(Math.abs(fd - t.grad!.f32()[i]!) < 2e-2 * Math.max(1, Math.abs(fd)), `element ${i}: ${t.grad!.f32()[i]} vs finite difference ${fd}`);
  }
});

test("fake-quant - BitNet b1.58 ternary weights, 1-bit sign and 8-bit per-token activations", () => {
  const w = K.randn([8, 32], K.createRng(5));
  const gamma = [...w.f32()].reduce((a, v) => a + Math.abs(v), 0) / 256;
  const t = K.ternaryQuant(w).f32();
  const levels = new Set([...t].map((v) => Math.round(v / gamma)));
  assert.deepEqual([...levels].sort(), [-1, 0, 1]);
  for (let i = 0; i < 256; i++) assert.ok(Math.abs(t[i]! - Math.max(-1, Math.min(1, Math.round(w.f32()[i]! / (gamma + 1e-5)))) * gamma) < 1e-6);
  const s = K.signQuant(w).f32();
  for (let r = 0; r < 8; r++) assert.equal(distinct(s.subarray(r * 32, r * 32 + 32)), 2, "1 bit: two values per channel");
  const a = K.randn([3, 5, 16], K.createRng(6), 4);
  const q = K.activationQuant8(a).f32();
  for (let r = 0; r < 15; r++) {
    let m = 0;
    for (let c = 0; c < 16; c++) m = Math.max(m, Math.abs(a.f32()[r * 16 + c]!));
    for (let c = 0; c < 16; c++) assert.ok(Math.abs(q[r * 16 + c]! - a.f32()[r * 16 + c]!) <= m / 127 / 2 + 1e-6, "within half a step of the token's grid");
  }
  const x = leaf(K.randn([4, 8], K.createRng(7)));
  K.backward(K.sum(K.activationQuant8(K.ternaryQuant(x))));
  assert.deepEqual([...x.grad!.f32()], new Array(32).fill(1), "plain STE through both");
});

test("fake-quant - calibration: min-max covers outliers, percentile clips them; nothing observed is an error", () => {
  const mm = K.createObserver({ kind: "minmax" });
  const pc = K.createObserver({ kind: "percentile", percentile: 99 });
  const v = K.randn([10000], K.createRng(8)).f32().slice();
  v[17] = 80;
  for (const o of [mm, pc]) o.observe(v);
  assert.equal(mm.range().max, 80);
  assert.ok(pc.range().max < 3 && pc.range().max > 2, `99th percentile of |N(0,1)| ≈ 2.58: ${pc.range().max}`);
  assert.equal(mm.count, 10000);
  const q = (r: { min: number; max: number }) => {
    const out = K.fakeQuant(K.tensor(v), { bits: 4, range: r }).f32();
    let e = 0;
    for (let i = 0; i < v.length; i++) if (i !== 17) e += (out[i]! - v[i]!) ** 2;
    return e;
  };
  assert.ok(q(pc.range()) < q(mm.range()) / 10, "percentile calibration quantises the bulk far better");
  assert.throws(() => K.createObserver({ kind: "minmax" }).range(), /nothing to calibrate on/);
  assert.throws(() => K.createObserver({ kind: "mean" as never }), /"minmax" or "percentile"/);
});
