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

// Shapes drawn at random (seeded) from the odd sizes, for the ops whose shapes interact.
test("gradcheck - random odd shapes (1, 3, 17, 97) for matmul, linear, norms, softmax, attention, losses", () => {
  const rng = K.createRng(31337);
  const pick = (sizes: readonly number[] = [1, 3, 17, 97]) => sizes[rng.int(sizes.length)]!;
  const leafOf = (shape: number[], s = 1) => { const t = K.randn(shape, rng, s); t.requiresGrad = true; return t; };
  for (let trial = 0; trial < 6; trial++) {
    const [M, N, Kd] = [pick(), pick(), pick()];
    const ta = rng.int(2) === 1, tb = rng.int(2) === 1;
    gradCheck(`matmul ${M}x${N}x${Kd} ${ta}${tb}`, (a, b) => K.matmul(a!, b!, { transA: ta, transB: tb }),
      [leafOf(ta ? [Kd, M] : [M, Kd]), leafOf(tb ? [N, Kd] : [Kd, N])], { samples: 6 });
    const [R, C, OC] = [pick(), pick(), pick()];
    gradCheck(`linear ${R}x${C}->${OC}`, (x, w, b) => K.linear(x!, w!, b!), [leafOf([R, C]), leafOf([OC, C]), leafOf([OC])], { samples: 6 });
    const [rows, cols] = [pick(), pick([3, 17, 97])];
    gradCheck(`layerNorm ${rows}x${cols}`, (x, w, b) => K.layerNorm(x!, w!, b!), [leafOf([rows, cols]), leafOf([cols]), leafOf([cols])], { samples: 6 });
    gradCheck(`rmsNorm ${rows}x${cols}`, (x, w) => K.rmsNorm(x!, w!), [leafOf([rows, cols]), leafOf([cols])], { samples: 6 });
    gradCheck(`logSoftmax ${rows}x${cols}`, (x) => K.logSoftmax(x!), [leafOf([rows, cols], 2)], { samples: 6 });
    const [B, T, H, hs] = [pick([1, 3]), pick([1, 3, 17]), pick([1, 3]), pick([1, 3, 17])];
    gradCheck(`attention B${B} T${T} H${H} hs${hs}`, (qkv) => K.causalSelfAttention(qkv!, H), [leafOf([B, T, 3 * H * hs])], { samples: 8 });
    const V = pick([3, 17, 97]);
    const targets = K.randint([rows], V, rng);
    gradCheck(`crossEntropy ${rows}x${V}`, (l) => K.crossEntropy(l!, targets), [leafOf([rows, V], 2)], { samples: 6 });
    const temperature = 1 + rng.int(3);
    gradCheck(`klDivergence ${rows}x${V} T=${temperature}`, (s, t) => K.klDivergence(s!, t!, { temperature }), [leafOf([rows, V], 2), K.randn([rows, V], rng, 2)], { samples: 6 });
  }
});
