// The public surface of the models layer: the architectures (gpt2, llama) behind one registry,
// Hugging Face model directories and PEFT adapters in and out, hidden-state capture and the
// logit lens, KV-cached generation, LoRA/DoRA adapters, the trainer loop, checkpoints (format,
// store interface, the local-directory store), generation, the library tasks of every
// curriculum stage, and the AGP pieces: the oracle's labels, the heads, hidden-state packets
// and codecs.
// models/ knows nothing of NATS: the Object Store checkpoint store lives in hosts/.
export * from "./errors.js";
export * from "./gpt.js";
export * from "./arch/mod.js";
export * from "./hf/mod.js";
export * from "./lora/mod.js";
export * from "./checkpoint/mod.js";
export * from "./training/mod.js";
export { type Logger, modelsLogger } from "./log.js";
export * from "./spec.js";
export { type MemoryEstimate, type MemoryEstimateOptions, estimateTrainingMemory, formatBytes, gptActivationCount, gptParameterCount } from "./memory.js";
export { type GenerateOptions, generate, greedyBatch, sample } from "./generate.js";
export { type SamplingOptions, chooseToken, penalize } from "./sampling.js";
export * from "./tasks/mod.js";
export * from "./verify/mod.js";
export { type LayeredDims, type LayeredModel, checkIndices, dimsOf, inEval } from "./layered.js";
export * from "./oracle/mod.js";
export * from "./heads/mod.js";
export * from "./transfer/mod.js";
export * from "./compress/mod.js";
