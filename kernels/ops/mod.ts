// The public ops. Each validates its arguments (typed errors naming the op, the argument and
// the shapes), allocates its output from the active workspace, calls one native kernel and
// records its backward next to its forward.
export { add, sub, mul, div, neg, exp, log, tanh, sigmoid, relu, sqrt, square, abs, gelu, silu, scale, addScalar, pow } from "./elementwise.js";
export { sum, mean, max, sumSquares, type ReduceOptions } from "./reduce.js";
export { matmul, linear, type MatmulOptions } from "./linalg.js";
export { embedding, layerNorm, rmsNorm, softmax, logSoftmax, dropout, type DropoutOptions } from "./nn.js";
export { rope, swiglu, groupedQueryAttention, cachedAttention, type CachedAttentionOptions } from "./decoder.js";
export { causalSelfAttention, causalSelfAttentionWithProbs, type AttentionResult } from "./attention.js";
export {
  crossEntropy, klDivergence, bceWithLogits, mseLoss, cosineSimilarity,
  type CrossEntropyOptions, type KlOptions, type Reduction, type ReductionOptions,
} from "./loss.js";
export { distillationLoss, distillationLossTopK, topK, averageTeachers, type DistillOptions, type TopKTeacher } from "./distill.js";
export { reshape, flatten, transpose, narrow, contiguous, concat } from "./shape.js";
export { toF16, toBF16, toF32 } from "./convert.js";
export { loraLinear } from "./lora.js";
export { QUANT_BLOCK, type QuantBits, type QuantizedWeight, dequantize, qlinear, quantize, quantizedBytes } from "./quant.js";
export { addInto, scaleInPlace, encodeHalf, decodeHalf } from "./buffers.js";
export { UnaryOp, BinaryOp, ReduceOp } from "./codes.js";
