// Op codes shared with the native kernels (kernels/native/src/core/kernels.h).
export const UnaryOp = {
  neg: 0, exp: 1, log: 2, tanh: 3, sigmoid: 4, relu: 5, sqrt: 6, square: 7, gelu: 8, silu: 9,
  scale: 10, addScalar: 11, abs: 12, pow: 13,
} as const;
export type UnaryOp = (typeof UnaryOp)[keyof typeof UnaryOp];

export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export type BinaryOp = (typeof BinaryOp)[keyof typeof BinaryOp];

export const ReduceOp = { sum: 0, mean: 1, max: 2 } as const;
export type ReduceOp = (typeof ReduceOp)[keyof typeof ReduceOp];
