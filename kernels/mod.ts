// The public surface of the kernels layer: tensors, ops, autograd, nn, optim, safetensors,
// the reference-fixture verifier, and the native runtime switches. kernels/ knows nothing of
// NATS or actors.
export { IGNORE_INDEX } from "./constants.js";
export * from "./errors.js";
export * from "./tensor/mod.js";
export * from "./ops/mod.js";
export * from "./autograd/mod.js";
export * from "./nn/mod.js";
export * from "./optim/mod.js";
export * from "./io/mod.js";
export * from "./quant/mod.js";
export * from "./reference/mod.js";
export { configureKernels, currentKernelSettings, kernelInfo, kernelThreadBudget, withKernels, KernelMode, type BlasSetting, type KernelSettings } from "./native/load.js";
export { cgroupCpuQuota, threadBudget, type ThreadBudget } from "./native/threads.js";
export type { NativeInfo } from "./native/types.js";
