// Compression: GGUF export/import for llama.cpp (gpt2 and llama architectures; the byte
// vocabulary as a merge-free GPT-2 BPE, byte-level BPE tokenizer.json vocabularies as they are),
// and the compression steps (distillation, pruning, QAT, PTQ) built on kernels/quant.
export { ExportType, dequantizedCopy, exportGguf, exportedType, gptFromGguf, gptToGguf, modelFromGguf, modelToGguf, readGgufModel, type GgufExport, type GgufExportOptions } from "./gguf.js";
export { llama3RopeFactors, llamaGgufName, permuteRope } from "./gguf-llama.js";
export { dropLlamaChannels, llamaChannelMasks } from "./prune-llama.js";
export { bpeTokenizerFromGguf, bpeVocabMetadata } from "./vocab-bpe.js";
export { byteToUnicode, byteVocabMetadata, isByteVocab } from "./vocab.js";
export { ggmlEquivalent } from "./ggml-compute.js";
export { QatFormat, QuantLinear, applyQat, removeQat, type QatClock, type QatConfig } from "./qat.js";
export {
  applyMasks, cubicSparsity, dropPrunedChannels, magnitudeMasks, maskSparsity, readMasks, serializeMasks, structuredMasks,
  type CubicSchedule, type Masks, type StructuredPlan,
} from "./prune.js";
export { copyGpt, freshStudent, scheduled, serializeModelFile, trainCompressed, validationLoss, type CompressTrainOptions, type CompressTrainResult, type DistillConfig, type PruneConfig, type Scheduled } from "./steps.js";
export { runPipeline, type PipelineOptions, type PipelineReport, type PipelineStep, type StepReport } from "./pipeline.js";
export { PtqLinear, applyPtq, type PtqConfig } from "./ptq.js";
