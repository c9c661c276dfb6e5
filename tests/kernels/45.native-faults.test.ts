// kernels - the raw binding under bad sizes, aliasing and memory pressure: a typed error, never a
// crash or a wrong number. guards #16 (items 10, 11, 13).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { arch } from "node:os";
import { K, fastModes } from "./helpers.js";
import { native } from "../../kernels/native/load.js";

const loadUrl = new URL("../../kernels/native/load.js", import.meta.url).href;
const modUrl = new URL("../../kernels/mod.js", import.meta.url).href;

/** Runs `body` (with `nat`, the raw binding, and `K` in scope) in a child node; its stdout and exit. */
function child(body: string, prefix: string[] = []) {
  const script = `const { native } = await import(${JSON.stringify(loadUrl)}); const K = await import(${JSON.stringify(modUrl)});
    const nat = native();
    try { ${body}; console.log("returned"); } catch (e) { console.log(e.name + ": " + e.message); }`;
  const [cmd, ...args] = [...prefix, process.execPath, "--input-type=module", "-e", script];
  const r = spawnSync(cmd!, args, { encoding: "utf8", timeout: 120_000 });
  return { out: r.stdout.trim(), status: r.status, signal: r.signal, stderr: r.stderr };
}

// Each size below wraps the int64 element count to a small number that the buffers satisfy;
// the kernels then walked far past them (exit 139). A regression crashes a child, not the run.
const OVERFLOWS: [string, string][] = [
  ["softmaxForward", "const f = new Float32Array(4096); nat.softmaxForward(f, new Float32Array(4096), 2 ** 52 + 1, 4096, false)"],
  ["bceBackward", "const f = new Float32Array(4097); nat.bceBackward(f, new Float32Array(1), 2 ** 52, 1, new Float32Array(4097), new Float32Array(4097), 4097)"],
  ["gemm", "const f = new Float32Array(16); nat.gemm(f, new Float32Array(16), new Float32Array(16), 2 ** 30, 2 ** 17, 2 ** 17, 2 ** 17, false, false, 1, 0)"],
  ["copyStrided", "nat.copyStrided(new Float32Array(8194), new Float32Array(2), [2 ** 12 + 1, 2], [2 ** 52, 1], 0)"],
  ["reduceInto", "nat.reduceInto(new Float32Array(2), new Float32Array(8194), [2 ** 12 + 1, 2], [2 ** 52, 1], 1)"],
];

for (const [op, call] of OVERFLOWS) {
  test(`native faults - ${op} with sizes near 2^52..2^62 is a RangeError, not a crash`, () => {
    const r = child(call);
    assert.equal(r.signal, null, `${op} killed the process with ${r.signal}: ${r.stderr.slice(-500)}`);
    assert.equal(r.status, 0, r.stderr.slice(-500));
    assert.match(r.out, new RegExp(`^RangeError: troupe native ${op}: `), r.out);
  });
}

test("native faults - every size product and sum is checked, in-process too", () => {
  const nat = native();
  const f = new Float32Array(16);
  assert.throws(() => nat.softmaxForward(f, f.slice(), 2 ** 52 + 1, 4096, false),
    /troupe native softmaxForward: the sizes overflow: 4503599627370497 x 4096 is beyond 2\^53 - 1/);
  assert.throws(() => nat.copyStrided(f, f.slice(), [2, 2], [2 ** 52, 2 ** 52], 0), (e: unknown) => e instanceof RangeError && /the sizes overflow/.test((e as Error).message));
  // strides past 2^53 were taken as they came (2^62 wrapped the extent to 1 element)
  assert.throws(() => nat.copyStrided(f, f.slice(), [2, 2, 2, 2], [2 ** 62, 2 ** 62, 2 ** 62, 2 ** 62], 0), /argument 3\[0\] must be a non-negative integer below 2\^53/);
  assert.throws(() => nat.klBackward(f, f.slice(), 2 ** 52, 1, f.slice(), f.slice(), 5, 3, 1), RangeError);
  // an empty tensor stays fine whatever its other sizes
  nat.softmaxForward(f, f.slice(), 0, 2 ** 31 - 1, false);
});

test("native faults - shape, stride and size values that are not integers are refused", () => {
  const nat = native();
  const f = () => new Float32Array(16);
  for (const bad of [2.5, NaN, Infinity, -1, 2 ** 53]) {
    assert.throws(() => nat.copyStrided(f(), f(), [2, bad], [2, 1], 0), (e: unknown) => e instanceof RangeError && /argument 2\[1\] must be a non-negative integer below 2\^53/.test((e as Error).message), `shape ${bad}`);
    assert.throws(() => nat.reduceInto(f(), f(), [2, 2], [bad, 1], 1), /argument 3\[0\] must be a non-negative integer/, `stride ${bad}`);
    assert.throws(() => nat.fill(f(), 0, bad), /argument 2 must be a non-negative integer/, `size ${bad}`);
  }
  assert.throws(() => nat.copyStrided(f(), f(), [2, 2], [2, 1], 0.5), /argument 4 must be a non-negative integer/);
  // 2.5 used to be truncated to 2 and copied a different region than asked for
  nat.copyStrided(f(), f(), [2, 2], [2, 1], 0);
});

test("native faults - an output overlapping an input or another output is refused", () => {
  const nat = native();
  const buf = new Float32Array(64).map((_, i) => i % 7);
  // c = a·b with c over the second half of a: the GEMM read what it had written
  const a = buf.subarray(0, 16);
  const c = buf.subarray(8, 24);
  assert.throws(() => nat.gemm(c, a, new Float32Array(16), 1, 4, 4, 4, false, false, 1, 0),
    (e: unknown) => e instanceof RangeError && (e as Error).message === "troupe native gemm: argument 0 (an output) overlaps argument 1 in the same memory");
  assert.deepEqual(Array.from(buf.subarray(0, 24)), Array.from({ length: 24 }, (_, i) => i % 7), "nothing was written");
  // even exactly: matmul is not elementwise
  assert.throws(() => nat.gemm(a, a, new Float32Array(16), 1, 4, 4, 4, false, false, 1, 0), /overlaps argument 1/);
  // two outputs in the same memory
  const x = new Float32Array(12).fill(1);
  const stats = new Float32Array(4);
  assert.throws(() => nat.layernormForward(new Float32Array(12), stats, stats, x, new Float32Array(3), new Float32Array(3), 4, 3, 1e-5),
    /argument 2 \(an output\) overlaps argument 1 \(an output\)|argument 1 \(an output\) overlaps argument 2 \(an output\)/);
  // inputs may share memory
  nat.binaryForward(new Float32Array(8), a.subarray(0, 8), a.subarray(4, 12), 8, 0);
});

test("native faults - elementwise ops may write over an input exactly, never shifted", () => {
  const nat = native();
  const g = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  nat.unaryForward(g, g, 8, 10, 2); // scale in place (clipGradNorm does this)
  assert.deepEqual(Array.from(g), [2, 4, 6, 8, 10, 12, 14, 16]);
  assert.throws(() => nat.unaryForward(g.subarray(1), g.subarray(0, 7), 7, 10, 2), /argument 0 \(an output\) overlaps argument 1/);
  // x * x: one gradient buffer for both inputs
  const d = new Float32Array(4);
  const v = new Float32Array([1, 2, 3, 4]);
  nat.binaryBackward(d, d, new Float32Array(4).fill(1), v, v, 4, 2);
  assert.deepEqual(Array.from(d), [2, 4, 6, 8]);
});

const poisoned = (n: number) => new Float32Array(n).fill(-7);

for (const mode of fastModes()) {
  test(`native faults - a scratch allocation failure is a KernelAllocationError, nothing written [${mode}]`, () => {
    const qkv = K.randn([2, 64, 3 * 16], K.createRng(1));
    const nat = native();
    K.withKernels({ mode, blas: false }, () => {
      nat.debugScratchLimit(4096);
      try {
        const out = poisoned(2 * 64 * 16);
        const lse = poisoned(2 * 2 * 64);
        assert.throws(() => nat.attentionForward(out, lse, null, qkv.f32(), 2, 64, 16, 2), (e: unknown) => {
          assert.ok(K.isKernelAllocationError(e), String(e));
          assert.ok(K.isKernelError(e));
          assert.equal((e as K.KernelAllocationError).code, "KERNEL_ALLOCATION");
          assert.ok((e as K.KernelAllocationError).bytes > 4096);
          assert.match((e as Error).message, /^troupe native attentionForward: cannot allocate [\d.]+ MiB of scratch memory$/);
          return true;
        });
        assert.ok(out.every((v) => v === -7) && lse.every((v) => v === -7), "the outputs were not touched");
        // the public op and the GEMM's packing buffer (transposed B) fail the same way
        assert.throws(() => K.causalSelfAttention(qkv, 2), K.isKernelAllocationError);
        const b = K.randn([200, 300], K.createRng(2));
        assert.throws(() => K.matmul(K.randn([300, 300], K.createRng(3)), b, { transB: true }), K.isKernelAllocationError);
      } finally {
        nat.debugScratchLimit(0);
      }
      // and everything works again once memory is there
      const y = K.causalSelfAttention(qkv, 2);
      assert.ok(y.f32().every(Number.isFinite));
    });
  });
}

test("native faults - under a real address-space limit (prlimit) attention fails typed, the process lives", { skip: arch() !== "x64" || spawnSync("prlimit", ["--version"]).status !== 0 ? "needs prlimit on x64 Linux (under emulation the limit applies to the emulator)" : false }, () => {
  // 12288 time steps need ~576 MiB of scores per thread; Node itself takes ~1.1 GB of address space
  const call = "const r = K.causalSelfAttention(K.randn([1, 12288, 6], K.createRng(1)), 1); console.log('unexpected', r.shape)";
  const fast = child(call, ["prlimit", "--as=1600000000"]);
  assert.equal(fast.signal, null, `killed by ${fast.signal}: ${fast.stderr.slice(-300)}`);
  assert.match(fast.out, /^KernelAllocationError: troupe native attentionForward: cannot allocate [\d.]+ MiB of scratch memory/, fast.out);
  // the reference backward asks for its T x T buffers with std::vector: bad_alloc, typed the same
  const ref = child(`K.configureKernels({ mode: "reference" }); const q = K.randn([1, 12288, 6], K.createRng(1)); q.requiresGrad = true; K.backward(K.sum(K.causalSelfAttention(q, 1)))`, ["prlimit", "--as=1600000000"]);
  assert.equal(ref.signal, null, `killed by ${ref.signal}: ${ref.stderr.slice(-300)}`);
  assert.match(ref.out, /^KernelAllocationError: troupe native attentionBackward: out of memory/, ref.out);
});
