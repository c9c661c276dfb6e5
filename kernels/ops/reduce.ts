// Reductions: sum, mean and max over one axis or over everything.
// Legend: O outer extent, D reduced extent, I inner extent.
import { gradOf, record } from "../autograd/graph.js";
import { ArgumentError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor, TensorImpl } from "../tensor/tensor.js";
import { ReduceOp } from "./codes.js";
import { expectF32, fmt } from "./validate.js";

export interface ReduceOptions {
  /** The axis to reduce (negative counts from the end); all axes when omitted. */
  readonly axis?: number;
  /** Keep the reduced axis with size 1. */
  readonly keepDim?: boolean;
}

function resolveAxis(op: string, x: TensorImpl, axis: number): number {
  const r = x.shape.length;
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new ArgumentError({ op, arg: "axis" }, `Expected "axis" to be an integer in [${-r}, ${r - 1}] for "x" ${fmt(x.shape)}, got ${axis}`);
  }
  return axis < 0 ? axis + r : axis;
}

function reduceOp(op: string, code: ReduceOp, x: Tensor, options: ReduceOptions): Tensor {
  const xi = expectF32(op, "x", x);
  let O = 1;
  let D = xi.size;
  let I = 1;
  let shape: number[] = options.keepDim ? xi.shape.map(() => 1) : [];
  if (options.axis !== undefined) {
    const ax = resolveAxis(op, xi, options.axis);
    O = xi.shape.slice(0, ax).reduce((p, d) => p * d, 1);
    D = xi.shape[ax]!;
    I = xi.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
    shape = xi.shape.slice();
    if (options.keepDim) shape[ax] = 1;
    else shape.splice(ax, 1);
  }
  if (D === 0) {
    throw new ArgumentError({ op, arg: "x" }, `cannot reduce an empty axis of "x" ${fmt(xi.shape)}`);
  }
  const nat = native();
  const out = alloc("f32", shape);
  const arg = code === ReduceOp.max ? alloc("i32", shape) : null;
  nat.reduceForward(out.f32(), arg ? arg.i32() : null, xi.f32(), O, D, I, code);
  return record(op, [xi], out, (g) => {
    nat.reduceBackward(gradOf(xi).f32(), g.f32(), arg ? arg.i32() : null, O, D, I, code);
  });
}

/** Sum over an axis, or of all elements (a one-element tensor of shape []). */
export function sum(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceOp("sum", ReduceOp.sum, x, options);
}

export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceOp("mean", ReduceOp.mean, x, options);
}

/** Maximum over an axis (the gradient flows to the first maximal element). */
export function max(x: Tensor, options: ReduceOptions = {}): Tensor {
  return reduceOp("max", ReduceOp.max, x, options);
}

/** Sum of squares of all elements, in double precision with a fixed order (no autograd). */
export function sumSquares(x: Tensor): number {
  const xi = expectF32("sumSquares", "x", x);
  return native().sumSquares(xi.f32(), xi.size);
}
