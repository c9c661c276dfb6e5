// kernels - the native addon: loading, runtime switches, and a binding that never crashes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K } from "./helpers.js";
import { native } from "../../kernels/native/load.js";

test("native - loads and reports its kernels, BLAS and threads", () => {
  const info = K.kernelInfo();
  assert.ok(["avx512", "avx2", "portable", "reference"].includes(info.kernels));
  assert.ok(info.threads >= 1);
  assert.equal(typeof info.cpu.avx512, "boolean");
});

test("native - every mode the CPU supports can be selected and restored", () => {
  const before = K.kernelInfo();
  const settings = K.currentKernelSettings();
  for (const mode of ["reference", "portable", "auto"] as const) {
    const info = K.configureKernels({ mode });
    assert.equal(info.mode, mode);
  }
  assert.equal(K.configureKernels({ mode: "reference" }).blas, null, "the reference mode never uses the BLAS");
  if (before.blasAvailable) {
    assert.equal(K.configureKernels({ mode: "portable", blas: "force" }).blas, before.blasAvailable);
    assert.equal(K.configureKernels({ mode: "portable", blas: false }).blas, null);
  }
  K.configureKernels(settings);
  assert.deepEqual(K.kernelInfo(), before);
});

test("native - an unknown mode is an ArgumentError", () => {
  assert.throws(() => K.configureKernels({ mode: "sse9" as K.KernelMode }), (e: unknown) => K.isArgumentError(e) && /Expected "mode" to be one of/.test((e as Error).message));
  assert.throws(() => K.configureKernels({ threads: -3 }), /Expected "threads" to be an integer in \[1, 64\], got -3/);
});

test("native - thread count changes and the results stay bitwise equal", () => {
  const before = K.kernelInfo();
  const rng = K.createRng(5);
  const x = K.randn([257, 96], rng);
  const w = K.randn([96], rng);
  const b = K.randn([96], rng);
  const run = () => K.layerNorm(x, w, b).f32().slice();
  const two = K.withKernels({ threads: 2 }, run);
  const one = K.withKernels({ threads: 1 }, run);
  const three = K.withKernels({ threads: 3 }, run);
  assert.deepEqual(one, two);
  assert.deepEqual(three, two);
  assert.deepEqual(K.kernelInfo(), before);
});

test("native - the raw binding rejects bad arguments with TypeError/RangeError, never a crash", () => {
  const nat = native();
  const f = new Float32Array(4);
  // @ts-expect-error wrong arity
  assert.throws(() => nat.fill(f, 0), (e: unknown) => e instanceof TypeError && /troupe native fill: expected 3 arguments, got 2/.test((e as Error).message));
  assert.throws(() => nat.fill(new Int32Array(4) as unknown as Float32Array, 0, 4), /argument 0 must be a Float32Array/);
  assert.throws(() => nat.fill(f, 0, 5), (e: unknown) => e instanceof RangeError && /holds 4 elements, the sizes need 5/.test((e as Error).message));
  assert.throws(() => nat.fill(f, 0, -1), /must be a non-negative integer/);
  assert.throws(() => nat.gemm(f, f, f, 1, 3, 3, 3, false, false, 1, 0), RangeError);
  assert.throws(() => nat.attentionForward(f, f, f, 1, 1, 3, 2), /C must be a multiple of H/);
  assert.throws(() => nat.unaryForward(f, f, 4, 99, 0), /unknown unary op/);
  assert.throws(() => nat.copyStrided(f, f, [2, 2], [4, 1], 0), RangeError);
});

test("native - the FMA peak is measured on all threads", () => {
  const peak = native().fmaPeak(0.05);
  assert.ok(peak > 0.1 && Number.isFinite(peak), `peak ${peak}`);
});
