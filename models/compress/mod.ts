// Compression: GGUF export/import for llama.cpp (byte vocabulary as a merge-free GPT-2 BPE),
// and the compression steps (distillation, pruning, QAT, PTQ) built on kernels/quant.
export { ExportType, dequantizedCopy, exportGguf, exportedType, gptFromGguf, gptToGguf, readGgufModel, type GgufExport, type GgufExportOptions } from "./gguf.js";
export { byteToUnicode, byteVocabMetadata, isByteVocab } from "./vocab.js";
export { ggmlEquivalent } from "./ggml-compute.js";
