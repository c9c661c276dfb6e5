// kernels - finite-difference gradient checks of every op (odd sizes 1, 3, 17, 97 included).
import { test } from "node:test";
import assert from "node:assert/strict";
import { gradCheck } from "./helpers.js";
import { K } from "./helpers.js";
import { opCases } from "./cases.js";

for (const c of opCases) {
  if (c.noGradCheck) continue;
  test(`gradcheck - ${c.name}`, () => {
    const xs = c.make(K.createRng(2024));
    gradCheck(c.name, c.run, xs, c.gradTol ?? {});
  });
}

test("gradcheck - the check fails on a wrong backward (guards the harness)", async () => {
  const { record, gradOf } = await import("../../kernels/autograd/mod.js");
  const { alloc } = await import("../../kernels/tensor/arena.js");
  // y = x², with a backward that forgets the factor 2
  const badSquare = (x: K.Tensor): K.Tensor => {
    const out = alloc("f32", x.shape);
    out.f32().set(x.f32().map((v) => v * v));
    return record("badSquare", [x], out, (g) => {
      const d = gradOf(x).f32();
      g.f32().forEach((gv, i) => { d[i]! += gv * x.f32()[i]!; });
    });
  };
  const x = K.randn([9], K.createRng(1));
  x.requiresGrad = true;
  assert.throws(() => gradCheck("badSquare", badSquare, [x]), /analytic .* vs numeric/);
});
