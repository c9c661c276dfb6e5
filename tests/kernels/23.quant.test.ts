// kernels - block-quantised weights (QLoRA's frozen base): quantisation error within half a step
// of each block, the dequantisation kernel equal in every mode to the reference twin and to a
// plain decoding written here, qlinear forward/backward equal to linear on the dequantised weight
// (every mode, odd row counts, tiles of several rows), finite differences, the argument errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose, fastModes, gradCheck, reference } from "./helpers.js";

const modes = fastModes();

/** The decoding spelled out here (not the kernel's): int8, or Q4_0 codes two per byte. */
function decode(w: K.QuantizedWeight): Float32Array {
  const out = new Float32Array(w.rows * w.cols);
  for (let e = 0; e < out.length; e++) {
    const v = w.bits === 8 ? ((w.q[e]! << 24) >> 24) : ((w.q[e >> 1]! >> ((e & 1) * 4)) & 15) - 8;
    out[e] = Math.fround(w.scale[Math.floor(e / 32)]! * v);
  }
  return out;
}

for (const bits of [4, 8] as const) {
  test(`kernels - quantize ${bits}-bit: every element within half a step of its block, the kernel's dequantisation equals the decoding, every mode`, () => {
    const w = K.randn([37, 96], K.createRng(bits));
    w.f32()[5] = 0; // a zero, and a block of zeros (scale 0)
    w.f32().fill(0, 32 * 3, 32 * 4);
    const q = K.quantize(w, bits);
    assert.equal(q.q.length, bits === 8 ? 37 * 96 : (37 * 96) / 2);
    assert.equal(q.scale.length, (37 * 96) / 32);
    const want = decode(q);
    const ww = w.f32();
    for (let e = 0; e < ww.length; e++) {
      const step = q.scale[Math.floor(e / 32)]!;
      assert.ok(Math.abs(want[e]! - ww[e]!) <= step / 2 + 1e-6, `element ${e}: ${want[e]} for ${ww[e]} (step ${step})`);
    }
    for (const mode of ["reference", ...modes] as const) {
      K.withKernels({ mode }, () => assert.deepEqual(K.dequantize(q).f32(), want, `[${mode}]`));
    }
  });

  for (const [N, C, OC] of [[1, 32, 1], [7, 64, 33], [130, 96, 70], [5, 1024, 1100]] as const) {
    test(`kernels - qlinear ${bits}-bit N=${N} C=${C} OC=${OC}: forward and input gradient equal linear on the dequantised weight, every mode`, () => {
      const rng = K.createRng(N + C + OC + bits);
      const q = K.quantize(K.randn([OC, C], rng), bits);
      const W = K.fromArray(decode(q), [OC, C]);
      const bias = K.randn([OC], rng);
      const x = K.randn([N, C], rng);
      const g = K.randn([N, OC], rng);
      const run = (f: (x: K.Tensor) => K.Tensor) => {
        const xi = K.tensor(x.f32(), [N, C]);
        xi.requiresGrad = true;
        const y = f(xi);
        K.backward(K.sum(K.mul(y, g)));
        return { y: y.f32().slice(), dx: xi.grad!.f32().slice() };
      };
      const want = reference(() => run((xi) => K.linear(xi, W, bias)));
      for (const mode of ["reference", ...modes] as const) {
        const got = K.withKernels({ mode }, () => run((xi) => K.qlinear(xi, q, bias)));
        assertClose(got.y, want.y, 1e-4, 1e-4, `forward [${mode}]`);
        assertClose(got.dx, want.dx, 1e-4, 1e-4, `dx [${mode}]`);
      }
    });
  }

  test(`kernels - qlinear ${bits}-bit: finite differences of the input`, () => {
    const rng = K.createRng(11);
    const q = K.quantize(K.randn([9, 64], rng), bits);
    const x = K.randn([3, 64], rng);
    x.requiresGrad = true;
    for (const mode of modes) K.withKernels({ mode }, () => gradCheck(`qlinear [${mode}]`, (xi) => K.qlinear(xi!, q), [x]));
  });
}

test("kernels - a quantised weight differs from the f32 one (the test above can fail): 4-bit error is larger than 8-bit's", () => {
  const w = K.randn([64, 64], K.createRng(3));
  const err = (bits: 4 | 8) => {
    const d = K.dequantize(K.quantize(w, bits)).f32();
    let m = 0;
    for (let i = 0; i < d.length; i++) m = Math.max(m, Math.abs(d[i]! - w.f32()[i]!));
    return m;
  };
  assert.ok(err(4) > 0.05 && err(8) > 0 && err(8) < err(4) / 8, `4-bit ${err(4)}, 8-bit ${err(8)}`);
});

test("kernels - quantize and qlinear refuse bad arguments with typed errors", () => {
  assert.throws(() => K.quantize(K.zeros([4, 33]), 4), (e) => K.isKernelError(e) && /multiple of the quantisation block \(32\)/.test(e.message));
  assert.throws(() => K.quantize(K.zeros([4, 32]), 3 as 4), (e) => K.isKernelError(e) && /bits 4 or 8/.test(e.message));
  const nan = K.zeros([1, 32]);
  nan.f32()[7] = NaN;
  assert.throws(() => K.quantize(nan, 8), (e) => K.isKernelError(e) && /NaN or an infinity in block 0/.test(e.message));
  const q = K.quantize(K.zeros([4, 32]), 8);
  assert.throws(() => K.qlinear(K.zeros([2, 64]), q), (e) => K.isKernelError(e) && /to have 32 features/.test(e.message));
});

test("kernels - a quantised Linear: no weight parameter, forward through qlinear, weight dequantises on demand", () => {
  const l = new K.Linear(64, 40, K.createRng(1));
  const x = K.randn([3, 64], K.createRng(2));
  const before = K.noGrad(() => l.forward(x).f32().slice());
  l.quantize(4);
  assert.deepEqual(l.namedParameters().map(([n]) => n), ["bias"]);
  assert.equal(l.bias!.requiresGrad, false);
  const after = K.noGrad(() => l.forward(x).f32().slice());
  const plain = K.noGrad(() => K.linear(x, l.weight, l.bias).f32().slice());
  assertClose(after, plain, 1e-5, 1e-5, "qlinear = linear(dequantised)");
  let diff = 0;
  for (let i = 0; i < after.length; i++) diff = Math.max(diff, Math.abs(after[i]! - before[i]!));
  assert.ok(diff > 1e-3 && diff < 0.5, `4-bit changes the outputs a little: ${diff}`);
  assert.throws(() => l.quantize(8), /already quantised/);
});
