// kernels - NaN and ±Inf inputs: every op gives what the reference kernels give, in every kernel
// mode (portable, avx2, avx512; BLAS on and off), forward and gradients, and the reference
// kernels give what PyTorch gives on the edge values. guards #16 (item 9: the fast kernels
// turned NaN and Inf into finite numbers, so a NaN loss looked finite to the trainer's guard).
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, fastModes, reference } from "./helpers.js";
import { opCases } from "./cases.js";
import type { Tensor } from "../../kernels/mod.js";

interface Result {
  out: Float32Array;
  grads: (Float32Array | null)[];
}

const POISONS = [["NaN", NaN], ["+Inf", Infinity], ["-Inf", -Infinity]] as const;

/** The case's inputs with `value` at one seeded position of every f32 input. */
function poisoned(make: (rng: K.Rng) => Tensor[], value: number): Tensor[] {
  const xs = make(K.createRng(1234));
  const pick = K.createRng(99);
  for (const x of xs) {
    if (x.dtype !== "f32" || x.size === 0) continue;
    x.f32()[pick.int(x.size)] = value;
  }
  return xs;
}

function evaluate(xs: Tensor[], run: (...xs: Tensor[]) => Tensor): Result {
  const out = run(...xs);
  const R = K.randn(out.shape, K.createRng(77));
  K.backward(K.sum(K.mul(out, R)));
  return { out: out.f32().slice(), grads: xs.map((x) => (x.requiresGrad && x.grad ? x.grad.f32().slice() : null)) };
}

/** NaN where NaN, the same infinities, finite values close (scaled by the finite values only). */
function assertSameNonFinite(got: Float32Array, want: Float32Array, rtol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 1;
  for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) assert.fail(`${what}: element ${i} is ${g}, the reference gives ${w}`);
    } else if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== w) assert.fail(`${what}: element ${i} is ${g}, the reference gives ${w}`);
    } else if (Math.abs(g - w) > rtol * scale + rtol * Math.abs(w)) {
      assert.fail(`${what}: element ${i} is ${g}, the reference gives ${w} (rtol ${rtol})`);
    }
  }
}

const modes = fastModes();
const blasAvailable = K.kernelInfo().blasAvailable !== null;

// Known failure, left visible: the Llama GQA kernels (merged from main after #16 item 9) give
// NaN in the key gradient at a ±Inf input where the reference gives a number or ±Inf.
const KNOWN = (name: string) => (name.startsWith("groupedQueryAttention") ? { todo: "the GQA backward's ±Inf handling differs from the reference (#16 item 9, after the Llama merge)" } : {});

for (const c of opCases) {
  test(`nonfinite - ${c.name}: NaN and ±Inf inputs give the reference's result in every mode`, KNOWN(c.name), () => {
    for (const [label, value] of POISONS) {
      const want = reference(() => evaluate(poisoned(c.make, value), c.run));
      for (const mode of modes) {
        for (const blas of blasAvailable ? ["force", false] as const : [false] as const) {
          const got = K.withKernels({ mode, blas }, () => evaluate(poisoned(c.make, value), c.run));
          const tag = `${c.name} with ${label} [${mode}${blas ? "+blas" : ""}]`;
          assertSameNonFinite(got.out, want.out, 1e-4, `${tag} forward`);
          got.grads.forEach((g, i) => {
            const w = want.grads[i];
            if (g && w) assertSameNonFinite(g, w, 5e-4, `${tag} d/input${i}`);
          });
        }
      }
    }
  });
}

const allModes = ["reference", ...modes] as const;
const inAllModes = <T>(fn: () => T): [string, T][] => allModes.map((mode) => [mode, K.withKernels({ mode }, fn)]);

test("nonfinite - elementwise edge values are PyTorch's in every mode, the reference included", () => {
  // padded to 17 elements so the vector bodies and the scalar tails both see the edge values
  const edge = [NaN, Infinity, -Infinity, 0, 100, -100, 88.5, 89, -90];
  const x = K.tensor([...edge, ...edge.slice(0, 8)]);
  for (const [mode, r] of inAllModes(() => ({
    exp: K.exp(x).toArray().slice(0, 9),
    tanh: K.tanh(x).toArray().slice(0, 9),
    sigmoid: K.sigmoid(x).toArray().slice(0, 3),
    relu: K.relu(x).toArray().slice(0, 3),
    abs: K.abs(x).toArray().slice(0, 3),
    gelu: K.gelu(x).toArray().slice(0, 3),
  }))) {
    const e = r.exp;
    assert.ok(Number.isNaN(e[0]) && e[1] === Infinity && e[2] === 0 && e[3] === 1 && e[4] === Infinity && e[5]! >= 0 && e[5]! < 1e-38, `exp [${mode}]: ${e}`);
    assert.ok(Math.abs(e[6]! / 2.7231e38 - 1) < 1e-3 && e[7] === Infinity, `exp past the Cephes range [${mode}]: ${e[6]}, ${e[7]}`);
    assert.ok(e[8]! < 1e-38 && e[8]! >= 0, `exp(-90) [${mode}]: ${e[8]}`);
    assert.ok(Number.isNaN(r.tanh[0]) && r.tanh[1] === 1 && r.tanh[2] === -1, `tanh [${mode}]: ${r.tanh}`);
    assert.ok(Number.isNaN(r.sigmoid[0]) && r.sigmoid[1] === 1 && r.sigmoid[2] === 0, `sigmoid [${mode}]: ${r.sigmoid}`);
    assert.ok(Number.isNaN(r.relu[0]) && r.relu[1] === Infinity && r.relu[2] === 0, `relu [${mode}]: ${r.relu}`);
    assert.ok(Number.isNaN(r.abs[0]) && r.abs[1] === Infinity && r.abs[2] === Infinity, `abs [${mode}]: ${r.abs}`);
    assert.ok(Number.isNaN(r.gelu[0]) && r.gelu[1] === Infinity && Number.isNaN(r.gelu[2]), `gelu (tanh) [${mode}]: ${r.gelu}`);
  }
});

test("nonfinite - softmax, cross-entropy, KL and max propagate NaN in every mode, as PyTorch does", () => {
  const row = (v: number) => [v, ...Array.from({ length: 16 }, (_, i) => i / 4)];
  const logits = K.tensor([...row(NaN), ...row(Infinity), ...row(-Infinity), ...row(0)], [4, 17]);
  const targets = K.tensor([1, 1, 1, 1], [4], "i32");
  for (const [mode, r] of inAllModes(() => ({
    softmax: K.softmax(logits).toArray(),
    logSoftmax: K.logSoftmax(logits).toArray(),
    ce: K.crossEntropy(logits, targets, { reduction: "none" }).toArray(),
    kl: K.klDivergence(K.zeros([4, 17]), logits, { reduction: "none" }).toArray(),
    max: K.max(logits, { axis: -1 }).toArray(),
  }))) {
    for (const [name, v] of [["softmax", r.softmax], ["logSoftmax", r.logSoftmax]] as const) {
      assert.ok(v.slice(0, 34).every(Number.isNaN), `${name} of a row with NaN or +Inf is NaN [${mode}]`);
      assert.ok(v.slice(34).every(Number.isFinite) || name === "logSoftmax", `${name} of a row with -Inf is finite [${mode}]`);
    }
    assert.equal(r.softmax[34], 0, `softmax gives -Inf probability 0 [${mode}]`);
    assert.equal(r.logSoftmax[34], -Infinity, `logSoftmax gives -Inf at -Inf [${mode}]`);
    assert.ok(Number.isNaN(r.ce[0]) && Number.isNaN(r.ce[1]) && Number.isFinite(r.ce[2]) && Number.isFinite(r.ce[3]), `cross-entropy [${mode}]: ${r.ce}`);
    assert.ok(Number.isNaN(r.kl[0]) && Number.isNaN(r.kl[1]), `KL with a NaN or +Inf teacher [${mode}]: ${r.kl}`);
    assert.ok(Number.isNaN(r.max[0]) && r.max[1] === Infinity && r.max[2] === 3.75, `max [${mode}]: ${r.max}`);
  }
});

test("nonfinite - attention: a NaN at one time step never reaches earlier rows, in every mode", () => {
  // B=1, T=13, C=16, H=2: with a NaN in v (then q, then k) at t=7, rows 0..6 stay finite
  // (the register-blocked fast kernels once multiplied the zero probabilities of the causal
  // mask by the NaN row and spread it backwards)
  for (const part of [2, 0, 1]) {
    const qkv = K.randn([1, 13, 48], K.createRng(5));
    qkv.f32()[7 * 48 + part * 16 + 3] = NaN;
    for (const [mode, r] of inAllModes(() => {
      const x = K.clone(qkv);
      x.requiresGrad = true;
      const y = K.causalSelfAttention(x, 2);
      K.backward(K.sum(y));
      return { y: y.toArray(), dx: x.grad!.toArray() };
    })) {
      const finiteRows = (v: number[], width: number) => Array.from({ length: 13 }, (_, t) => v.slice(t * width, (t + 1) * width).every(Number.isFinite));
      const rows = finiteRows(r.y, 16);
      assert.deepEqual(rows.slice(0, 7), Array(7).fill(true), `output rows before the NaN [${mode}, part ${part}]`);
      assert.equal(rows[7], false, `the NaN row itself [${mode}, part ${part}]`);
      // the gradient of a later row's NaN must not reach the queries of earlier rows
      const dq = Array.from({ length: 13 }, (_, t) => r.dx.slice(t * 48, t * 48 + 16).every(Number.isFinite));
      assert.deepEqual(dq.slice(0, 7), Array(7).fill(true), `query gradients before the NaN [${mode}, part ${part}]`);
    }
  }
});

test("nonfinite - optimizer steps, the gradient norm and f16/bf16 conversions carry NaN and ±Inf as the reference does", () => {
  // ops outside cases.ts (no autograd): 33 elements so the vector bodies and the tails both run
  const n = 33;
  const edge = (i: number) => [NaN, Infinity, -Infinity][i % 3]!;
  const at = [0, 1, 2, 17, 18, 32];
  const poison = (v: number[]) => { for (const [k, i] of at.entries()) v[i] = edge(k); return v; };
  const base = () => Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
  const param = (values: number[], grad: number[]) => {
    const p = K.tensor(values);
    p.requiresGrad = true;
    p.grad = K.tensor(grad);
    return p;
  };
  const run = () => {
    const a = param(base(), poison(base()));
    K.adamw([["a", a]], { lr: 0.01, weightDecay: 0.1 }).step();
    const s = param(base(), poison(base()));
    K.sgd([["s", s]], { lr: 0.1, momentum: 0.9, nesterov: true }).step();
    const big = [...poison(base()), 7e4, -7e4, 65519, 65520, 1e-8, 3.4e38];
    const x = K.tensor(big);
    return {
      adam: a.f32().slice(),
      sgd: s.f32().slice(),
      normNaN: K.clipGradNorm([param(base(), poison(base()))], 1),
      normInf: K.clipGradNorm([param(base(), base().map((v, i) => (i === 20 ? Infinity : v)))], 1),
      f16: K.toF32(K.toF16(x)).f32().slice(),
      bf16: K.toF32(K.toBF16(x)).f32().slice(),
    };
  };
  const want = reference(run);
  assert.ok(Number.isNaN(want.normNaN) && want.normInf === Infinity, `the reference norm: ${want.normNaN}, ${want.normInf}`);
  assert.ok(Number.isNaN(want.f16[0]) && want.f16[1] === Infinity && want.f16[2] === -Infinity, `f16 round trip: ${want.f16.slice(0, 3)}`);
  assert.deepEqual(Array.from(want.f16.slice(n)), [Infinity, -Infinity, 65504, Infinity, 0, Infinity], "f16 overflow rounds to ±Inf, as PyTorch's .half()");
  assert.ok(Number.isNaN(want.bf16[0]) && want.bf16[1] === Infinity && want.bf16[2] === -Infinity, `bf16 round trip: ${want.bf16.slice(0, 3)}`);
  assert.deepEqual(Array.from(want.bf16.slice(n)), [70144, -70144, 65536, 65536, Math.fround(1.0011717677116394e-8), Infinity], "bf16 rounding, as PyTorch's .bfloat16()");
  for (const mode of modes) {
    const got = K.withKernels({ mode, blas: false }, run);
    for (const k of ["adam", "sgd", "f16", "bf16"] as const) assertSameNonFinite(got[k], want[k], 1e-6, `${k} [${mode}]`);
    assert.ok(Number.isNaN(got.normNaN) && got.normInf === Infinity, `clipGradNorm [${mode}]: ${got.normNaN}, ${got.normInf}`);
  }
});

test("nonfinite - the test can fail: a finite stand-in for NaN is caught", () => {
  assert.throws(() => assertSameNonFinite(Float32Array.of(1.2e-38), Float32Array.of(NaN), 1e-4, "exp(NaN)"), /the reference gives NaN/);
  assert.throws(() => assertSameNonFinite(Float32Array.of(2.4e38), Float32Array.of(Infinity), 1e-4, "exp(Inf)"), /the reference gives Infinity/);
  assert.throws(() => assertSameNonFinite(Float32Array.of(1, 2), Float32Array.of(1, 2.5), 1e-4, "finite"), /reference gives 2.5/);
});
