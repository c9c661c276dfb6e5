// kernels - every optimized kernel (portable, avx2, avx512; BLAS on and off) against the naive
// reference kernels: forward values and the gradients of a random projection of the output.
import { test } from "node:test";
import { K, assertClose, assertShape, fastModes, reference } from "./helpers.js";
import { opCases } from "./cases.js";
import type { Tensor } from "../../kernels/mod.js";
import { native } from "../../kernels/native/load.js";

interface Result {
  out: Float32Array;
  shape: number[];
  grads: (Float32Array | null)[];
}

function evaluate(make: (rng: K.Rng) => Tensor[], run: (...xs: Tensor[]) => Tensor): Result {
  const xs = make(K.createRng(1234));
  const out = run(...xs);
  const R = K.randn(out.shape, K.createRng(77));
  K.backward(K.sum(K.mul(out, R)));
  return {
    out: out.f32().slice(),
    shape: [...out.shape],
    grads: xs.map((x) => (x.requiresGrad && x.grad ? x.grad.f32().slice() : null)),
  };
}

const modes = fastModes();
const blasAvailable = K.kernelInfo().blasAvailable !== null;

for (const c of opCases) {
  test(`kernels - ${c.name} matches the reference kernels`, () => {
    const want = reference(() => evaluate(c.make, c.run));
    for (const mode of modes) {
      for (const blas of blasAvailable ? ["force", false] as const : [false] as const) {
        // scratch left over from earlier kernels is NaN: reading what was not written shows
        // (guards #3: attention once multiplied unwritten scores by zero)
        const got = K.withKernels({ mode, blas }, () => {
          native().debugPoisonScratch();
          return evaluate(c.make, c.run);
        });
        const tag = `${c.name} [${mode}${blas ? "+blas" : ""}]`;
        assertShape({ shape: got.shape } as unknown as Tensor, want.shape, tag);
        const scale = Math.max(1, ...want.out.map(Math.abs));
        assertClose(got.out, want.out, 2e-5 * scale, 1e-4, `${tag} forward`);
        got.grads.forEach((g, i) => {
          const w = want.grads[i];
          if (!g || !w) return;
          const gs = Math.max(1, ...w.map(Math.abs));
          assertClose(g, w, 5e-5 * gs, 2e-4, `${tag} d/input${i}`);
        });
      }
    }
  });
}

// guards #3: a recycled workspace tensor keeps the last step's values
test("kernels - ops write every element of their outputs (recycled workspace memory is NaN)", async () => {
  const { poisonWorkspace } = await import("../../kernels/tensor/arena.js");
  for (const c of opCases) {
    const want = evaluate(c.make, c.run);
    const ws = K.workspace();
    ws.run(() => evaluate(c.make, c.run));
    poisonWorkspace(ws);
    const got = ws.run(() => evaluate(c.make, c.run));
    assertClose(got.out, want.out, 0, 0, `${c.name} forward in a recycled workspace`);
    got.grads.forEach((g, i) => g && assertClose(g, want.grads[i]!, 0, 0, `${c.name} d/input${i} in a recycled workspace`));
  }
});

test("kernels - GEMM on larger odd shapes, all transposes, every mode", () => {
  const rng = K.createRng(3);
  for (const [M, N, Kd] of [[129, 67, 300], [513, 33, 97], [7, 1031, 65]] as const) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = K.randn(ta ? [Kd, M] : [M, Kd], rng);
      const b = K.randn(tb ? [N, Kd] : [Kd, N], rng);
      const want = reference(() => K.matmul(a, b, { transA: ta, transB: tb }).f32().slice());
      for (const mode of modes) {
        for (const blas of blasAvailable ? ["force", false] as const : [false] as const) {
          const got = K.withKernels({ mode, blas }, () => K.matmul(a, b, { transA: ta, transB: tb }).f32());
          assertClose(got, want, 1e-4 * Math.sqrt(Kd), 1e-4, `gemm ${M}x${N}x${Kd} ${ta}${tb} [${mode}${blas ? "+blas" : ""}]`);
        }
      }
    }
  }
});

test("kernels - optimizer updates match the reference kernels bit for bit in structure (within 1 ulp)", () => {
  const rng = K.createRng(8);
  const n = 70003; // threaded, with a tail
  const p0 = K.randn([n], rng).f32();
  const g = K.randn([n], rng, 0.1).f32();
  const run = () => {
    const p = K.fromArray(p0.slice(), [n]);
    p.requiresGrad = true;
    p.grad = K.fromArray(g.slice(), [n]);
    const opt = K.adamw([["p", p]], { lr: 1e-3, weightDecay: 0.1 });
    for (let i = 0; i < 3; i++) opt.step();
    const s = K.sgd([["p", p]], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    for (let i = 0; i < 2; i++) s.step();
    return p.f32().slice();
  };
  const want = reference(run);
  for (const mode of modes) assertClose(K.withKernels({ mode }, run), want, 1e-6, 1e-6, `optimizers [${mode}]`);
});

test("kernels - f16/bf16 conversions are identical in every mode", () => {
  const values = [0, -0, 1, -1, 65504, 65520, 1e-8, 6e-5, 5.96e-8, 3.0e-8, 0.1, 1 / 3, Infinity, -Infinity, NaN, 1e38, -2.5e-39, 123.456];
  const rng = K.createRng(4);
  const x = K.tensor([...values, ...K.randn([1000], rng, 100).toArray()]);
  const want = reference(() => [K.toF16(x).data.slice(), K.toBF16(x).data.slice(), K.toF32(K.toF16(x)).f32().slice(), K.toF32(K.toBF16(x)).f32().slice()]);
  for (const mode of modes) {
    const got = K.withKernels({ mode }, () => [K.toF16(x).data.slice(), K.toBF16(x).data.slice(), K.toF32(K.toF16(x)).f32().slice(), K.toF32(K.toBF16(x)).f32().slice()]);
    got.forEach((g, i) => assertClose(g, want[i]!, 0, 0, `conversion ${i} [${mode}]`));
  }
});
