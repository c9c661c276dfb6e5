// One list of op cases shared by the reference-vs-optimized tests and the gradient checks:
// every public differentiable op, on odd sizes (1, 3, 17, 97) as well as round ones.
import { K, leaf } from "./helpers.js";
import type { Tensor } from "../../kernels/mod.js";
import { compressCases } from "./cases-compress.js";
import { decoderCases } from "./cases-decoder.js";

export interface OpCase {
  readonly name: string;
  /** Fresh inputs (leaves that require grad where the op differentiates them). */
  make(rng: K.Rng): Tensor[];
  run(...xs: Tensor[]): Tensor;
  /** Skip the finite-difference check (ops with kinks at random points). */
  readonly noGradCheck?: boolean;
  /** Finite-difference tolerances when the default does not fit. */
  readonly gradTol?: { atol?: number; rtol?: number; h?: number };
}

const r = (rng: K.Rng, shape: number[], s = 1) => leaf(K.randn(shape, rng, s));
const away = (rng: K.Rng, shape: number[]) => {
  // values away from 0 (for abs, relu, sqrt, log, div)
  const t = K.randn(shape, rng);
  const d = t.f32();
  for (let i = 0; i < d.length; i++) d[i] = (d[i]! >= 0 ? 1 : -1) * (0.5 + Math.abs(d[i]!));
  return leaf(t);
};
const positive = (rng: K.Rng, shape: number[]) => {
  const t = K.rand(shape, rng, 0.5, 2);
  return leaf(t);
};
const idx = (rng: K.Rng, shape: number[], n: number) => K.randint(shape, n, rng);

export const opCases: OpCase[] = [
  // matmul, all transposes, 2-D and batched, odd sizes
  ...[[1, 1, 1], [3, 17, 97], [97, 3, 17], [17, 97, 3], [33, 64, 40]].flatMap(([M, N, Kd]) =>
    [[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) => ({
      name: `matmul ${M}x${N}x${Kd} ta=${ta} tb=${tb}`,
      make: (rng: K.Rng) => [r(rng, ta ? [Kd!, M!] : [M!, Kd!]), r(rng, tb ? [N!, Kd!] : [Kd!, N!])],
      run: (a: Tensor, b: Tensor) => K.matmul(a, b, { transA: ta, transB: tb }),
    }))),
  ...[[false, false], [true, false], [false, true], [true, true]].map(([ta, tb]) => ({
    name: `matmul batched 3x5x7x9 ta=${ta} tb=${tb}`,
    make: (rng: K.Rng) => [r(rng, ta ? [3, 9, 5] : [3, 5, 9]), r(rng, tb ? [3, 7, 9] : [3, 9, 7])],
    run: (a: Tensor, b: Tensor) => K.matmul(a, b, { transA: ta, transB: tb }),
  })),
  { name: "matmul batched with a shared b", make: (rng) => [r(rng, [3, 5, 9]), r(rng, [9, 4])], run: (a, b) => K.matmul(a, b) },
  { name: "linear 17x3 -> 97 with bias", make: (rng) => [r(rng, [2, 17, 3]), r(rng, [97, 3]), r(rng, [97])], run: (x, w, b) => K.linear(x, w, b) },
  { name: "linear 1 -> 1 without bias", make: (rng) => [r(rng, [1, 1]), r(rng, [1, 1])], run: (x, w) => K.linear(x, w) },
  { name: "linear 97x33 -> 17", make: (rng) => [r(rng, [97, 33]), r(rng, [17, 33]), r(rng, [17])], run: (x, w, b) => K.linear(x, w, b) },
  // elementwise
  { name: "add same shape 97", make: (rng) => [r(rng, [97]), r(rng, [97])], run: (a, b) => K.add(a, b) },
  { name: "sub rows [3,17]-[17]", make: (rng) => [r(rng, [3, 17]), r(rng, [17])], run: (a, b) => K.sub(a, b) },
  { name: "mul rows [5,3,17]*[3,17]", make: (rng) => [r(rng, [5, 3, 17]), r(rng, [3, 17])], run: (a, b) => K.mul(a, b) },
  { name: "div rows [17,3]/[3]", make: (rng) => [r(rng, [17, 3]), away(rng, [3])], run: (a, b) => K.div(a, b) },
  { name: "mul broadcast [3,1,5]*[1,4,1]", make: (rng) => [r(rng, [3, 1, 5]), r(rng, [1, 4, 1])], run: (a, b) => K.mul(a, b) },
  { name: "div broadcast [4,1]/[3]", make: (rng) => [r(rng, [4, 1]), away(rng, [3])], run: (a, b) => K.div(a, b) },
  { name: "sub broadcast [5]-[2,5] (b larger)", make: (rng) => [r(rng, [5]), r(rng, [2, 5])], run: (a, b) => K.sub(a, b) },
  { name: "mul same shape 3x17", make: (rng) => [r(rng, [3, 17]), r(rng, [3, 17])], run: (a, b) => K.mul(a, b) },
  { name: "div same shape 97", make: (rng) => [r(rng, [97]), away(rng, [97])], run: (a, b) => K.div(a, b) },
  // intermediates: add/sub hand the output gradient's buffer to an input that has none yet
  { name: "add of intermediates", make: (rng) => [r(rng, [3, 17]), r(rng, [3, 17])], run: (a, b) => K.mul(K.add(K.tanh(a), K.exp(b)), K.tanh(a)) },
  { name: "sub of intermediates, then reuse", make: (rng) => [r(rng, [17])], run: (x) => { const g = K.gelu(x); return K.mul(K.sub(g, K.tanh(x)), g); } },
  { name: "add of the same intermediate twice", make: (rng) => [r(rng, [5])], run: (x) => { const t = K.tanh(x); return K.add(t, t); } },
  { name: "rows add of an intermediate (residual + bias)", make: (rng) => [r(rng, [4, 3, 5]), r(rng, [3, 5])], run: (x, p) => { const h = K.silu(x); return K.mul(K.add(h, p), h); } },
  { name: "neg", make: (rng) => [r(rng, [17])], run: (x) => K.neg(x) },
  { name: "exp", make: (rng) => [r(rng, [97])], run: (x) => K.exp(x) },
  { name: "log", make: (rng) => [positive(rng, [17])], run: (x) => K.log(x) },
  { name: "tanh", make: (rng) => [r(rng, [97], 2)], run: (x) => K.tanh(x) },
  { name: "sigmoid", make: (rng) => [r(rng, [97], 3)], run: (x) => K.sigmoid(x) },
  { name: "relu", make: (rng) => [away(rng, [17])], run: (x) => K.relu(x) },
  { name: "sqrt", make: (rng) => [positive(rng, [17])], run: (x) => K.sqrt(x) },
  { name: "square", make: (rng) => [r(rng, [3])], run: (x) => K.square(x) },
  { name: "abs", make: (rng) => [away(rng, [17])], run: (x) => K.abs(x) },
  { name: "gelu (tanh) 3x97", make: (rng) => [r(rng, [3, 97], 3)], run: (x) => K.gelu(x) },
  { name: "gelu (tanh) 1", make: (rng) => [r(rng, [1])], run: (x) => K.gelu(x) },
  { name: "silu 97", make: (rng) => [r(rng, [97], 3)], run: (x) => K.silu(x) },
  { name: "scale", make: (rng) => [r(rng, [17])], run: (x) => K.scale(x, -1.7) },
  { name: "addScalar", make: (rng) => [r(rng, [17])], run: (x) => K.addScalar(x, 0.3) },
  { name: "pow 1.5", make: (rng) => [positive(rng, [17])], run: (x) => K.pow(x, 1.5) },
  { name: "elementwise large (threaded) gelu 70001", make: (rng) => [r(rng, [70001])], run: (x) => K.gelu(x) },
  // reductions
  { name: "sum all 97", make: (rng) => [r(rng, [97])], run: (x) => K.sum(x) },
  { name: "sum axis 1 of [3,17,5]", make: (rng) => [r(rng, [3, 17, 5])], run: (x) => K.sum(x, { axis: 1 }) },
  { name: "mean axis -1 keepDim [17,3]", make: (rng) => [r(rng, [17, 3])], run: (x) => K.mean(x, { axis: -1, keepDim: true }) },
  { name: "max axis 0 of [97,3]", make: (rng) => [r(rng, [97, 3])], run: (x) => K.max(x, { axis: 0 }) },
  // nn
  { name: "embedding [97,17] at [3,5]", make: (rng) => [r(rng, [97, 17]), idx(rng, [3, 5], 97)], run: (t, i) => K.embedding(t, i) },
  { name: "embedding [1,1] at [1]", make: (rng) => [r(rng, [1, 1]), idx(rng, [1], 1)], run: (t, i) => K.embedding(t, i) },
  { name: "layerNorm [3,17]", make: (rng) => [r(rng, [3, 17]), r(rng, [17]), r(rng, [17])], run: (x, w, b) => K.layerNorm(x, w, b) },
  { name: "layerNorm [97,97] threaded", make: (rng) => [r(rng, [2, 97, 97]), r(rng, [97]), r(rng, [97])], run: (x, w, b) => K.layerNorm(x, w, b) },
  { name: "layerNorm [5,1]", make: (rng) => [r(rng, [5, 1]), r(rng, [1]), r(rng, [1])], run: (x, w, b) => K.layerNorm(x, w, b, 1e-3), gradTol: { atol: 5e-3 } },
  { name: "rmsNorm [3,17]", make: (rng) => [r(rng, [3, 17]), r(rng, [17])], run: (x, w) => K.rmsNorm(x, w) },
  { name: "rmsNorm [97,33] threaded", make: (rng) => [r(rng, [97, 33]), r(rng, [33])], run: (x, w) => K.rmsNorm(x, w) },
  { name: "softmax [3,17]", make: (rng) => [r(rng, [3, 17], 2)], run: (x) => K.softmax(x) },
  { name: "softmax [97,1]", make: (rng) => [r(rng, [97, 1])], run: (x) => K.softmax(x) },
  { name: "logSoftmax [5,97]", make: (rng) => [r(rng, [5, 97], 2)], run: (x) => K.logSoftmax(x) },
  { name: "dropout p=0.3", make: (rng) => [r(rng, [97])], run: (x) => K.dropout(x, 0.3, { seed: 7, offset: 11 }) },
  // attention: odd T and head sizes (hs 1, 3, 17, 32)
  ...[[1, 1, 1, 1], [2, 3, 3, 1], [1, 17, 6, 2], [2, 5, 51, 3], [1, 97, 8, 2], [2, 19, 64, 2]].map(([B, T, C, H]) => ({
    name: `causalSelfAttention B=${B} T=${T} C=${C} H=${H}`,
    make: (rng: K.Rng) => [r(rng, [B!, T!, 3 * C!])],
    run: (qkv: Tensor) => K.causalSelfAttention(qkv, H!),
  })),
  // losses
  { name: "crossEntropy mean [3,5,17] with ignored targets", make: (rng) => {
    const t = idx(rng, [3, 5], 17);
    t.i32()[2] = K.IGNORE_INDEX; t.i32()[7] = K.IGNORE_INDEX;
    return [r(rng, [3, 5, 17], 2), t];
  }, run: (l, t) => K.crossEntropy(l, t) },
  { name: "crossEntropy sum [97,3]", make: (rng) => [r(rng, [97, 3]), idx(rng, [97], 3)], run: (l, t) => K.crossEntropy(l, t, { reduction: "sum" }) },
  { name: "crossEntropy none [1,1]", make: (rng) => [r(rng, [1, 1]), idx(rng, [1], 1)], run: (l, t) => K.crossEntropy(l, t, { reduction: "none" }) },
  { name: "crossEntropy none [17,97]", make: (rng) => [r(rng, [17, 97], 3), idx(rng, [17], 97)], run: (l, t) => K.crossEntropy(l, t, { reduction: "none" }) },
  { name: "klDivergence T=2 mean [5,17]", make: (rng) => [r(rng, [5, 17], 2), K.randn([5, 17], rng, 2)], run: (s, t) => K.klDivergence(s, t, { temperature: 2 }) },
  { name: "klDivergence T=1 none [3,97] x T²", make: (rng) => [r(rng, [3, 97], 2), K.randn([3, 97], rng, 2)], run: (s, t) => K.klDivergence(s, t, { reduction: "none", scaleByTemperatureSquared: true }) },
  { name: "bceWithLogits mean [3,17]", make: (rng) => [r(rng, [3, 17], 3), K.rand([3, 17], rng)], run: (l, t) => K.bceWithLogits(l, t) },
  { name: "bceWithLogits none [97]", make: (rng) => [r(rng, [97], 3), K.rand([97], rng)], run: (l, t) => K.bceWithLogits(l, t, { reduction: "none" }) },
  { name: "mseLoss mean [3,17]", make: (rng) => [r(rng, [3, 17]), r(rng, [3, 17])], run: (a, b) => K.mseLoss(a, b) },
  { name: "cosineSimilarity [3,17]", make: (rng) => [r(rng, [3, 17]), r(rng, [3, 17])], run: (a, b) => K.cosineSimilarity(a, b) },
  { name: "cosineSimilarity [97,1]", make: (rng) => [away(rng, [97, 1]), away(rng, [97, 1])], run: (a, b) => K.cosineSimilarity(a, b) },
  // shape ops
  { name: "reshape + transpose + contiguous", make: (rng) => [r(rng, [3, 17])], run: (x) => K.contiguous(K.transpose(K.reshape(x, [17, 3]))) },
  { name: "narrow axis 1 (strided) then contiguous", make: (rng) => [r(rng, [5, 7, 3])], run: (x) => K.contiguous(K.narrow(x, 1, 2, 4)) },
  { name: "concat axis -1 of [3,2], [3,5], [3,1]", make: (rng) => [r(rng, [3, 2]), r(rng, [3, 5]), r(rng, [3, 1])], run: (a, b, c) => K.concat([a!, b!, c!]) },
  { name: "concat axis 0 of [1,4], [3,4]", make: (rng) => [r(rng, [1, 4]), r(rng, [3, 4])], run: (a, b) => K.concat([a!, b!], 0) },
  { name: "concat axis 1 of [2,3,2], [2,1,2] (middle axis)", make: (rng) => [r(rng, [2, 3, 2]), r(rng, [2, 1, 2])], run: (a, b) => K.concat([a!, b!], 1) },
  { name: "narrow axis 0 (shared memory)", make: (rng) => [r(rng, [5, 7])], run: (x) => K.mul(K.narrow(x, 0, 1, 3), K.narrow(x, 0, 2, 3)) },
  // compression: the fused distillation loss (#12)
  ...compressCases,
  // the Llama family (rope, swiglu, grouped-query attention): cases-decoder.ts
  ...decoderCases,
];
