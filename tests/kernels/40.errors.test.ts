// kernels - bad input to public ops throws typed errors naming the op, the argument and the
// shapes, before anything native runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K } from "./helpers.js";

const rng = K.createRng(1);
const f = (shape: number[]) => K.randn(shape, rng);

function throwsExactly(fn: () => unknown, kind: (e: unknown) => boolean, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(kind(e), `wrong error class: ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

test("errors - wrong shapes name the op, the argument and the shapes", () => {
  throwsExactly(() => K.matmul(f([2, 3]), f([4, 5])), K.isShapeError,
    'matmul: inner dimensions differ: op("a") is [2,3] and op("b") is [4,5] ("a" [2,3], "b" [4,5])');
  throwsExactly(() => K.linear(f([2, 3]), f([4, 5])), K.isShapeError,
    'linear: Expected "weight" to have shape [*,3], got f32 [4,5] ("x" [2,3] has 3 features)');
  throwsExactly(() => K.linear(f([2, 3]), f([4, 3]), f([5])), K.isShapeError,
    'linear: Expected "bias" to have shape [4], got f32 [5] ("weight" [4,3] has 4 outputs)');
  throwsExactly(() => K.layerNorm(f([2, 3]), f([4]), f([3])), K.isShapeError,
    'layerNorm: Expected "weight" to have shape [3], got f32 [4] ("x" [2,3] has 3 channels)');
  throwsExactly(() => K.add(f([2, 3]), f([4])), K.isShapeError, 'add: cannot broadcast "a" [2,3] with "b" [4]');
  throwsExactly(() => K.causalSelfAttention(f([2, 3, 10]), 2), K.isShapeError,
    'causalSelfAttention: Expected the last dimension of "qkv" [2,3,10] to be 3 * C with C a multiple of heads (2)');
  throwsExactly(() => K.crossEntropy(f([2, 3, 5]), K.zeros([2, 4], "i32")), K.isShapeError,
    'crossEntropy: Expected "targets" to have shape [2,3], got i32 [2,4] ("logits" is [2,3,5])');
  throwsExactly(() => K.klDivergence(f([2, 5]), f([2, 4])), K.isShapeError,
    'klDivergence: Expected "teacher" to have the shape of "student" [2,5], got f32 [2,4]');
  throwsExactly(() => K.matmul(f([2, 3, 4]), f([3, 4, 2])), K.isShapeError,
    'matmul: Expected "b" to have shape [2,*,*], got f32 [3,4,2] (batch of "a" is 2)');
  throwsExactly(() => K.concat([f([2, 3]), f([3, 3])]), K.isShapeError,
    'concat: Expected "tensors[1]" to match [2,3] except on axis 1, got [3,3]');
  throwsExactly(() => K.embedding(f([4]), K.zeros([2], "i32")), K.isShapeError,
    'embedding: Expected "table" to have rank 2, got f32 [4]');
});

test("errors - wrong dtypes are DTypeErrors", () => {
  throwsExactly(() => K.gelu(K.zeros([3], "i32")), K.isDTypeError, 'gelu: Expected "x" to be f32, got i32 [3]');
  throwsExactly(() => K.embedding(f([4, 2]), f([3])), K.isDTypeError, 'embedding: Expected "idx" to be i32, got f32 [3]');
  throwsExactly(() => K.crossEntropy(f([3, 4]), f([3])), K.isDTypeError, 'crossEntropy: Expected "targets" to be i32, got f32 [3]');
  throwsExactly(() => K.layerNorm(K.toF16(f([2, 3])), f([3]), f([3])), K.isDTypeError, 'layerNorm: Expected "x" to be f32, got f16 [2,3]');
});

test("errors - strided views are rejected where contiguous memory is needed", () => {
  throwsExactly(() => K.gelu(K.transpose(f([2, 3]))), K.isContiguityError,
    'gelu: Expected "x" to be contiguous, got a strided view f32 [3,2] with strides [1,3] (call contiguous() first)');
  throwsExactly(() => K.matmul(K.transpose(f([2, 3])), f([2, 2])), K.isContiguityError,
    'matmul: Expected "a" to be contiguous, got a strided view f32 [3,2] with strides [1,3] (call contiguous() first)');
});

test("errors - bad scalars and indices are ArgumentErrors with exact messages", () => {
  throwsExactly(() => K.layerNorm(f([2, 3]), f([3]), f([3]), -3), K.isArgumentError, 'layerNorm: Expected "eps" to be a positive number, got -3');
  throwsExactly(() => K.causalSelfAttention(f([1, 2, 6]), -3), K.isArgumentError, 'causalSelfAttention: Expected "heads" to be a positive integer, got -3');
  throwsExactly(() => K.dropout(f([3]), 1, { seed: 1 }), K.isArgumentError, 'dropout: Expected "p" to be a number in [0, 1), got 1');
  throwsExactly(() => K.embedding(f([4, 2]), K.tensor([0, 4, 1], [3], "i32")), K.isArgumentError,
    'embedding: Expected "idx" to hold indices in [0, 4), got 4 at flat position 1 of i32 [3]');
  throwsExactly(() => K.crossEntropy(f([2, 3]), K.tensor([1, -5], [2], "i32")), K.isArgumentError,
    'crossEntropy: Expected "targets" to hold indices in [0, 3) or -100 (ignored), got -5 at flat position 1 of i32 [2]');
  throwsExactly(() => K.crossEntropy(f([2, 3]), K.tensor([1, 0], [2], "i32"), { reduction: "avg" as K.Reduction }), K.isArgumentError,
    'crossEntropy: Expected "reduction" to be one of "mean", "sum", "none", got "avg"');
  throwsExactly(() => K.sum(f([2, 3]), { axis: 2 }), K.isArgumentError, 'sum: Expected "axis" to be an integer in [-2, 1] for "x" [2,3], got 2');
  throwsExactly(() => K.scale(f([2]), NaN), K.isArgumentError, 'scale: Expected "s" to be a finite number, got NaN');
  throwsExactly(() => K.gelu(null as unknown as K.Tensor), K.isArgumentError, 'gelu: Expected "x" to be a Tensor, got null');
});

test("errors - every kernels error is a KernelError with a code", () => {
  try {
    K.gelu(K.zeros([1], "i32"));
    assert.fail("no error");
  } catch (e) {
    assert.ok(K.isKernelError(e));
    assert.equal((e as K.KernelError).code, "KERNEL_DTYPE");
    assert.equal((e as Error).name, "DTypeError");
    assert.equal((e as K.DTypeError).op, "gelu");
    assert.equal((e as K.DTypeError).arg, "x");
  }
});
