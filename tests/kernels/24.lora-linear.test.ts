// kernels - loraLinear (a LoRA-adapted Linear as one op, the adapter's product accumulated into
// the base's output): forward and every gradient (x, the adapter's own input, W, bias, A, B)
// equal the composed ops linear(x, W, b) + s · linear(linear(xa, A), B), on an f32 base and on a
// block-quantised one (against its dequantisation), inside a workspace run twice; the argument
// errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose } from "./helpers.js";

const N = 6, C = 64, OC = 40, r = 4, s = 1.5;

function inputs(seed: number, separateXa: boolean, trainW: boolean) {
  const rng = K.createRng(seed);
  const W = K.randn([OC, C], rng, 0.2);
  const t = {
    x: K.randn([2, N / 2, C], rng), W, bias: K.randn([OC], rng), A: K.randn([r, C], rng, 0.3), B: K.randn([OC, r], rng, 0.3),
    xa: separateXa ? K.randn([2, N / 2, C], rng) : null, g: K.randn([2, N / 2, OC], rng),
  };
  for (const k of ["x", "bias", "A", "B", "xa"] as const) if (t[k]) t[k]!.requiresGrad = true;
  W.requiresGrad = trainW;
  return t;
}

type T = ReturnType<typeof inputs>;
function grads(t: T, f: () => K.Tensor) {
  for (const k of ["x", "W", "bias", "A", "B", "xa"] as const) if (t[k]) t[k]!.grad = null;
  const ws = K.workspace();
  let y = new Float32Array();
  for (let run = 0; run < 2; run++) {
    for (const k of ["x", "W", "bias", "A", "B", "xa"] as const) if (t[k]) t[k]!.grad = null;
    y = ws.run(() => {
      const out = f();
      K.backward(K.sum(K.mul(out, t.g)));
      return out.f32().slice();
    });
  }
  const g = (k: "x" | "W" | "bias" | "A" | "B" | "xa") => t[k]?.grad?.f32().slice() ?? null;
  return { y, x: g("x"), W: g("W"), bias: g("bias"), A: g("A"), B: g("B"), xa: g("xa") };
}

for (const quant of [null, 4, 8] as const) {
  for (const separateXa of [false, true]) {
    test(`kernels - loraLinear ${quant ? `${quant}-bit` : "f32"} base${separateXa ? ", the adapter on its own input" : ""}: forward and every gradient equal the composed ops`, () => {
      const t = inputs(quant ?? 1, separateXa, quant === null);
      const q = quant ? K.quantize(t.W, quant) : null;
      const Wd = q ? K.dequantize(q) : t.W;
      const xa = t.xa ?? t.x;
      const got = grads(t, () => K.loraLinear(t.x, q ?? t.W, t.bias, t.A, t.B, s, xa));
      const want = grads(t, () => K.add(K.linear(t.x, Wd, t.bias), K.scale(K.linear(K.linear(xa, t.A), t.B), s)));
      for (const k of ["y", "x", "W", "bias", "A", "B", "xa"] as const) {
        if (want[k] === null) { assert.equal(got[k], null, k); continue; }
        assert.ok(got[k], `${k} got a gradient`);
        assertClose(got[k]!, want[k]!, 1e-4, 1e-4, k);
      }
      assert.equal(want.W !== null, quant === null, "W is trained on the f32 base only");
    });
  }
}

test("kernels - loraLinear refuses mismatched shapes with typed errors", () => {
  const t = inputs(3, false, false);
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e) => K.isKernelError(e) && re.test(e.message));
  bad(() => K.loraLinear(K.zeros([2, 32]), t.W, null, t.A, t.B, s), /to have 64 features/);
  bad(() => K.loraLinear(t.x, t.W, null, K.zeros([r, 32]), t.B, s), /"A"/);
  bad(() => K.loraLinear(t.x, t.W, null, t.A, K.zeros([OC, r + 1]), s), /"B"/);
  bad(() => K.loraLinear(t.x, t.W, K.zeros([OC + 1]), t.A, t.B, s), /"bias"/);
  bad(() => K.loraLinear(t.x, t.W, null, t.A, t.B, s, K.zeros([N, C])), /"xa"/);
  bad(() => K.loraLinear(t.x, t.W, null, t.A, t.B, NaN), /scaling/);
});
