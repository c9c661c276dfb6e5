// kernels - the native addon: loading, runtime switches, and a binding that never crashes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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

// guards #16 (item 13): the avx2 kernels convert f16 with F16C, which a CPU or hypervisor may
// leave out while offering AVX2 and FMA
test("native - the avx2 and avx512 kernels need F16C; without it the portable kernels run", () => {
  const nat = native();
  const all = { avx2: true, fma: true, f16c: true, avx512f: true, avx512bw: true, avx512vl: true, avx512dq: true };
  assert.deepEqual(nat.debugX86Features(all), { avx2: true, avx512: true, f16c: true });
  assert.deepEqual(nat.debugX86Features({ ...all, f16c: false }), { avx2: false, avx512: false, f16c: false });
  assert.deepEqual(nat.debugX86Features({ ...all, fma: false }), { avx2: false, avx512: false, f16c: true });
  assert.deepEqual(nat.debugX86Features({ ...all, avx512vl: false }), { avx2: true, avx512: false, f16c: true });
  const { cpu } = K.kernelInfo();
  if (cpu.avx2) assert.equal(cpu.f16c, true, "this CPU runs the avx2 kernels, so it reported F16C");
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
  assert.throws(() => nat.attentionForward(f, f, null, f, 1, 1, 3, 2), /C must be a multiple of H/);
  assert.throws(() => nat.unaryForward(f, f, 4, 99, 0), /unknown unary op/);
  assert.throws(() => nat.copyStrided(f, f, [2, 2], [4, 1], 0), RangeError);
});

test("native - the FMA peak is measured on all threads", () => {
  const peak = native().fmaPeak(0.05);
  assert.ok(peak > 0.1 && Number.isFinite(peak), `peak ${peak}`);
});

test("native - a missing addon is a NativeLoadError that lists the fixes", () => {
  const script = `import("${new URL("../../kernels/mod.js", import.meta.url).href}").then((K) => {
    try { K.kernelInfo(); console.log("loaded"); } catch (e) { console.log(e.name + "|" + e.code + "|" + e.message); }
  })`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, TROUPE_KERNELS_ADDON: "/nonexistent/troupe_kernels.node" },
    encoding: "utf8",
  });
  const [name, code, message] = r.stdout.trim().split("|");
  assert.equal(name, "NativeLoadError");
  assert.equal(code, "KERNEL_NATIVE_LOAD");
  assert.match(message!, /could not load the troupe kernels addon \(\/nonexistent\/troupe_kernels.node\)\. Possible fixes:/);
  assert.match(r.stdout, /npm run build/);
  assert.match(r.stdout, /C\+\+17 compiler/);
});

test("native - bad environment switches are ArgumentErrors", () => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ["--input-type=module", "-e",
    `import("${new URL("../../kernels/mod.js", import.meta.url).href}").then((K) => { try { K.kernelInfo(); console.log("ok"); } catch (e) { console.log(e.message); } })`],
  { env: { ...process.env, ...env }, encoding: "utf8" }).stdout.trim();
  assert.equal(run({ TROUPE_KERNELS: "sse9" }), 'kernels: Expected "TROUPE_KERNELS" to be one of auto, avx512, avx2, portable, reference, got "sse9"');
  assert.equal(run({ TROUPE_THREADS: "-3" }), 'kernels: Expected "TROUPE_THREADS" to be a positive integer, got "-3"');
  assert.equal(run({ TROUPE_BLAS: "maybe" }), 'kernels: Expected "TROUPE_BLAS" to be 0, 1 or force, got "maybe"');
  assert.equal(run({ TROUPE_KERNELS: "portable", TROUPE_THREADS: "1", TROUPE_BLAS: "0" }), "ok");
});

test("native - worker threads get their own runtime and pool, and exit cleanly", async () => {
  const { Worker } = await import("node:worker_threads");
  const before = K.kernelInfo();
  const mod = new URL("../../kernels/mod.js", import.meta.url).href;
  const code = `
    const { parentPort } = require("node:worker_threads");
    import(${JSON.stringify(mod)}).then((K) => {
      K.configureKernels({ threads: 1, mode: "portable" });
      const x = K.tensor([1, 2, 3, 4], [2, 2]);
      const y = K.matmul(x, x).toArray();
      parentPort.postMessage({ y, info: K.kernelInfo() });
    });`;
  const runs = await Promise.all([0, 1].map(() => new Promise<{ y: number[]; info: K.NativeInfo }>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once("message", (m) => { resolve(m); void w.terminate(); });
    w.once("error", reject);
  })));
  for (const r of runs) {
    assert.deepEqual(r.y, [7, 10, 15, 22]);
    assert.equal(r.info.threads, 1);
    assert.equal(r.info.mode, "portable");
  }
  // the main thread's runtime is untouched by the workers' settings
  assert.deepEqual(K.kernelInfo(), before);
  assert.deepEqual(K.matmul(K.tensor([1, 2, 3, 4], [2, 2]), K.tensor([1, 0, 0, 1], [2, 2])).toArray(), [1, 2, 3, 4]);
});
