// kernels - the raw-buffer kernels the data-parallel all-reduce uses (addInto, scaleInPlace,
// encodeHalf, decodeHalf): exact in every kernel mode, on plain and SharedArrayBuffer memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose, fastModes, reference } from "./helpers.js";

const modes = fastModes();

function shared(values: Float32Array): Float32Array {
  const f = new Float32Array(new SharedArrayBuffer(values.byteLength));
  f.set(values);
  return f;
}

test("kernels - addInto is dst + src, bit for bit, in every mode and on SharedArrayBuffer views", () => {
  const rng = K.createRng(9);
  const n = 10_007; // odd: the vector tails run too
  const a = K.randn([n], rng, 3).f32();
  const b = K.randn([n], rng, 1e-3).f32();
  const want = new Float32Array(n);
  for (let i = 0; i < n; i++) want[i] = Math.fround(a[i]! + b[i]!);
  for (const mode of ["reference", ...modes] as const) {
    const dst = shared(a);
    K.withKernels({ mode }, () => K.addInto(dst.subarray(3), b.subarray(3)));
    assert.equal(dst[0], a[0], "the view's offset is honoured");
    assertClose(dst.subarray(3), want.subarray(3), 0, 0, `addInto [${mode}]`);
  }
});

test("kernels - scaleInPlace multiplies in place; a non-finite factor is refused", () => {
  const x = shared(new Float32Array([1, -2, 3.5, 0]));
  K.scaleInPlace(x, 0.5);
  assert.deepEqual([...x], [0.5, -1, 1.75, 0]);
  assert.throws(() => K.scaleInPlace(x, NaN), (e) => e instanceof K.ArgumentError && /finite number/.test(e.message));
});

test("kernels - encodeHalf/decodeHalf equal toF16/toBF16/toF32 in every mode", () => {
  const rng = K.createRng(5);
  const x = K.tensor([0, -0, 65504, 65520, 1e-8, 0.1, 1 / 3, Infinity, NaN, 1e38, ...K.randn([999], rng, 50).toArray()]);
  for (const dtype of ["f16", "bf16"] as const) {
    const want = reference(() => {
      const h = dtype === "f16" ? K.toF16(x) : K.toBF16(x);
      return [h.data.slice() as Uint16Array, K.toF32(h).f32().slice()] as const;
    });
    for (const mode of ["reference", ...modes] as const) {
      const src = shared(x.f32());
      const out = new Uint16Array(new SharedArrayBuffer(src.length * 2));
      const back = new Float32Array(src.length);
      K.withKernels({ mode }, () => {
        K.encodeHalf(out, src, dtype);
        K.decodeHalf(back, out, dtype);
      });
      assertClose(out, want[0], 0, 0, `encode ${dtype} [${mode}]`);
      assertClose(back, want[1], 0, 0, `decode ${dtype} [${mode}]`);
    }
  }
});

test("kernels - the buffer kernels refuse mismatched lengths and wrong array types with ArgumentError", () => {
  assert.throws(() => K.addInto(new Float32Array(3), new Float32Array(4)), (e) => e instanceof K.ArgumentError && /same length, got 3 and 4/.test(e.message));
  assert.throws(() => K.addInto(new Float64Array(3) as never, new Float32Array(3)), (e) => e instanceof K.ArgumentError && /Float32Array, got Float64Array/.test(e.message));
  assert.throws(() => K.encodeHalf(new Uint16Array(2), new Float32Array(2), "f8" as never), (e) => e instanceof K.ArgumentError && /f16 or bf16/.test(e.message));
});
