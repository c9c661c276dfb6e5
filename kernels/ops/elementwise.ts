// Elementwise ops: unary math and the four binary ops with numpy broadcasting.
// Legend: n element count, N rows, C row length (the broadcast operand's size).
import { donateGrad, gradOf, record } from "../autograd/graph.js";
import { ShapeError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import { broadcastShapes, broadcastStrides, contiguousStrides, isSuffix, sameShape } from "../tensor/shape.js";
import type { Tensor, TensorImpl } from "../tensor/tensor.js";
import { BinaryOp, UnaryOp } from "./codes.js";
import { expectF32, finiteNumber, fmt } from "./validate.js";

function unary(op: string, code: UnaryOp, x: Tensor, alpha = 0): Tensor {
  const xi = expectF32(op, "x", x);
  const out = alloc("f32", xi.shape);
  const nat = native();
  nat.unaryForward(out.f32(), xi.f32(), xi.size, code, alpha);
  return record(op, [xi], out, (g) => {
    nat.unaryBackward(gradOf(xi).f32(), g.f32(), xi.f32(), out.f32(), xi.size, code, alpha);
  });
}

export const neg = (x: Tensor): Tensor => unary("neg", UnaryOp.neg, x);
export const exp = (x: Tensor): Tensor => unary("exp", UnaryOp.exp, x);
export const log = (x: Tensor): Tensor => unary("log", UnaryOp.log, x);
export const tanh = (x: Tensor): Tensor => unary("tanh", UnaryOp.tanh, x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", UnaryOp.sigmoid, x);
export const relu = (x: Tensor): Tensor => unary("relu", UnaryOp.relu, x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", UnaryOp.sqrt, x);
export const square = (x: Tensor): Tensor => unary("square", UnaryOp.square, x);
export const abs = (x: Tensor): Tensor => unary("abs", UnaryOp.abs, x);
/** tanh-approximated GELU (GPT-2). */
export const gelu = (x: Tensor): Tensor => unary("gelu", UnaryOp.gelu, x);
/** x * sigmoid(x). */
export const silu = (x: Tensor): Tensor => unary("silu", UnaryOp.silu, x);
export const scale = (x: Tensor, s: number): Tensor => unary("scale", UnaryOp.scale, x, finiteNumber("scale", "s", s));
export const addScalar = (x: Tensor, s: number): Tensor => unary("addScalar", UnaryOp.addScalar, x, finiteNumber("addScalar", "s", s));
export const pow = (x: Tensor, p: number): Tensor => unary("pow", UnaryOp.pow, x, finiteNumber("pow", "p", p));

const names = ["add", "sub", "mul", "div"] as const;

function binary(code: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
  const op = names[code];
  if (typeof b === "number") {
    finiteNumber(op, "b", b);
    if (code === BinaryOp.add) return addScalar(a, b);
    if (code === BinaryOp.sub) return addScalar(a, -b);
    if (code === BinaryOp.mul) return scale(a, b);
    return scale(a, 1 / b);
  }
  const ai = expectF32(op, "a", a);
  const bi = expectF32(op, "b", b);
  if (sameShape(ai.shape, bi.shape)) return same(op, code, ai, bi);
  if (bi.size > 0 && isSuffix(bi.shape, ai.shape)) return rows(op, code, ai, bi);
  const shape = broadcastShapes(ai.shape, bi.shape);
  if (!shape) {
    throw new ShapeError({ op, arg: "b" }, `cannot broadcast "a" ${fmt(ai.shape)} with "b" ${fmt(bi.shape)}`);
  }
  return general(op, code, ai, bi, shape);
}

export const add = (a: Tensor, b: Tensor | number): Tensor => binary(BinaryOp.add, a, b);
export const sub = (a: Tensor, b: Tensor | number): Tensor => binary(BinaryOp.sub, a, b);
export const mul = (a: Tensor, b: Tensor | number): Tensor => binary(BinaryOp.mul, a, b);
export const div = (a: Tensor, b: Tensor | number): Tensor => binary(BinaryOp.div, a, b);

// a[n] op b[n]
function same(op: string, code: BinaryOp, a: TensorImpl, b: TensorImpl): Tensor {
  const nat = native();
  const out = alloc("f32", a.shape);
  nat.binaryForward(out.f32(), a.f32(), b.f32(), a.size, code);
  return record(op, [a, b], out, (g) => {
    // the gradient of a + b passes through unchanged: hand the buffer over when we can
    const passA = code === BinaryOp.add || code === BinaryOp.sub;
    const aDone = passA && a !== b && donateGrad(a, g);
    const bDone = code === BinaryOp.add && !aDone && a !== b && donateGrad(b, g);
    const da = a.requiresGrad && !aDone ? gradOf(a).f32() : null;
    const db = b.requiresGrad && !bDone ? gradOf(b).f32() : null;
    if (da || db) nat.binaryBackward(da, db, g.f32(), a.f32(), b.f32(), a.size, code);
  });
}

// a[N,C] op b[C] where b's shape is the trailing part of a's (bias, positions)
function rows(op: string, code: BinaryOp, a: TensorImpl, b: TensorImpl): Tensor {
  const nat = native();
  const C = b.size;
  const N = a.size / C;
  const out = alloc("f32", a.shape);
  nat.rowwiseForward(out.f32(), a.f32(), b.f32(), N, C, code);
  return record(op, [a, b], out, (g) => {
    const aDone = (code === BinaryOp.add || code === BinaryOp.sub) && donateGrad(a, g);
    const da = a.requiresGrad && !aDone ? gradOf(a).f32() : null;
    const db = b.requiresGrad ? gradOf(b).f32() : null;
    if (da || db) nat.rowwiseBackward(da, db, g.f32(), a.f32(), b.f32(), N, C, code);
  });
}

// any broadcast: strided walk forward, local gradient then sum into the input's shape
function general(op: string, code: BinaryOp, a: TensorImpl, b: TensorImpl, shape: number[]): Tensor {
  const nat = native();
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const dense = contiguousStrides(shape);
  const out = alloc("f32", shape);
  nat.broadcastForward(out.f32(), a.f32(), b.f32(), shape, sa, sb, code);
  return record(op, [a, b], out, (g) => {
    const tmp = alloc("f32", shape);
    if (a.requiresGrad) {
      const da = gradOf(a).f32();
      if (code === BinaryOp.add || code === BinaryOp.sub) nat.reduceInto(da, g.f32(), shape, sa, 1);
      else {
        nat.broadcastForward(tmp.f32(), g.f32(), b.f32(), shape, dense, sb, code); // g*b or g/b
        nat.reduceInto(da, tmp.f32(), shape, sa, 1);
      }
    }
    if (b.requiresGrad) {
      const db = gradOf(b).f32();
      if (code === BinaryOp.add) nat.reduceInto(db, g.f32(), shape, sb, 1);
      else if (code === BinaryOp.sub) nat.reduceInto(db, g.f32(), shape, sb, -1);
      else if (code === BinaryOp.mul) {
        nat.broadcastForward(tmp.f32(), g.f32(), a.f32(), shape, dense, sa, BinaryOp.mul);
        nat.reduceInto(db, tmp.f32(), shape, sb, 1);
      } else {
        // d(a/b)/db = -(a/b)/b = -out/b
        nat.broadcastForward(tmp.f32(), out.f32(), b.f32(), shape, dense, sb, BinaryOp.div);
        nat.binaryForward(tmp.f32(), tmp.f32(), g.f32(), tmp.size, BinaryOp.mul);
        nat.reduceInto(db, tmp.f32(), shape, sb, -1);
      }
    }
  });
}
