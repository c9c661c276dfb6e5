export { DType, bytesPerElement, isDType } from "./dtype.js";
export type { AnyTypedArray, TypedArrayOf } from "./dtype.js";
export { type Shape, numel, formatShape, broadcastShapes } from "./shape.js";
export type { Tensor, GradNode } from "./tensor.js";
export { tensor, fromArray, zeros, ones, full, randn, rand, randint, arange, clone, copyInto } from "./create.js";
export { workspace, currentWorkspace, outsideWorkspace, type Workspace } from "./arena.js";
export { createRng, type Rng, type RngState } from "./rng.js";
