// Op cases of the compression kernels (fused distillation loss, dense and top-k teacher), added
// to the shared list so they are checked against the reference kernels in every mode and by
// finite differences like every other op.
import { K, leaf } from "./helpers.js";
import type { OpCase } from "./cases.js";

const r = (rng: K.Rng, shape: number[], s = 1) => leaf(K.randn(shape, rng, s));

export const compressCases: OpCase[] = [
  { name: "distillationLoss T=2 alpha=0.5 mean [3,5,17] with ignored targets", make: (rng) => {
    const t = K.randint([3, 5], 17, rng);
    t.i32()[1] = K.IGNORE_INDEX;
    t.i32()[9] = K.IGNORE_INDEX;
    return [r(rng, [3, 5, 17], 2), K.randn([3, 5, 17], rng, 2), t];
  }, run: (s, te, t) => K.distillationLoss(s!, te!, t!, { temperature: 2, alpha: 0.5 }) },
  { name: "distillationLoss alpha=1 no targets none [7,97]", make: (rng) => [r(rng, [7, 97], 2), K.randn([7, 97], rng, 3)],
    run: (s, te) => K.distillationLoss(s!, te!, null, { temperature: 3, alpha: 1, reduction: "none" }) },
  { name: "distillationLoss alpha=0 sum [97,3] (CE only)", make: (rng) => [r(rng, [97, 3]), K.randn([97, 3], rng), K.randint([97], 3, rng)],
    run: (s, te, t) => K.distillationLoss(s!, te!, t!, { temperature: 1, alpha: 0, reduction: "sum" }) },
  { name: "distillationLossTopK k=5 T=2 alpha=0.7 [4,6,33]", make: (rng) => {
    const teacher = K.topK(K.randn([4, 6, 33], rng, 2), 5);
    return [r(rng, [4, 6, 33], 2), teacher.indices, teacher.values, K.randint([4, 6], 33, rng)];
  }, run: (s, i, v, t) => K.distillationLossTopK(s!, { indices: i!, values: v! }, t!, { temperature: 2, alpha: 0.7 }) },
  { name: "distillationLossTopK k=1 alpha=1 none [17,97]", make: (rng) => {
    const teacher = K.topK(K.randn([17, 97], rng, 2), 1);
    return [r(rng, [17, 97], 2), teacher.indices, teacher.values];
  }, run: (s, i, v) => K.distillationLossTopK(s!, { indices: i!, values: v! }, null, { temperature: 1.5, alpha: 1, reduction: "none" }) },
];
