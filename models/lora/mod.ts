// LoRA and DoRA adapters: settings, layers, applying/merging, adapter files, the fixture check.
export { DEFAULT_LORA_TARGETS, type LoraConfig, loraScale, matchesAnyTarget, matchesTarget, resolveLoraConfig } from "./config.js";
export { ADAPTER_PARAMS, DoraLinear, LoraLinear, isAdapterParam, rowNorm } from "./layers.js";
export { type AppliedAdapter, type ApplyLoraOptions, adapterOf, adapterParameters, applyLora, baseParameters, mergeAdapters } from "./apply.js";
export {
  ADAPTER_MAGIC, ADAPTER_VERSION, type AdapterFile, type LoadAdapterOptions,
  attachAdapter, baseWeightsDigest, loadAdapter, parseAdapter, saveAdapter, serializeAdapter,
} from "./adapter-file.js";
export { type LoraVerifyReport, isLoraFixture, loraVerifyTolerances, verifyLoraFixture } from "./verify.js";
export { PEFT_CONFIG, PEFT_WEIGHTS, type PeftAdapter, type SavePeftOptions, isPeftDir, loadPeftAdapter, peftTargets, readPeftAdapter, savePeftAdapter } from "./peft.js";
