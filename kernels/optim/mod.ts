export type { Optimizer } from "./optimizer.js";
export { adamw, adam, type AdamOptions } from "./adam.js";
export { sgd, type SgdOptions } from "./sgd.js";
export { cosineWithWarmup, type CosineWarmupOptions } from "./schedule.js";
export { clipGradNorm } from "./clip.js";
export type { NamedParams } from "./params.js";
