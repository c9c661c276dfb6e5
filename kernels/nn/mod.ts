export { Module, ModuleList, type Layer } from "./module.js";
export { Linear, Embedding, LayerNorm, RMSNorm, type LinearOptions } from "./layers.js";
export { MultiHeadAttention, MLP, TransformerBlock, Activation, type BlockOptions, type InitOptions } from "./transformer.js";
export { GPT, type GPTConfig, type ResolvedGPTConfig, type GPTOutput } from "./gpt.js";
export { type Decoder, type DecoderDims, type DecoderOutput, type ForwardOptions, captureLoop } from "./decoder.js";
export { KvCache, type LayerCache } from "./kv-cache.js";
export { Llama, LlamaAttention, LlamaMLP, LlamaDecoderLayer, LlamaModel, type LlamaConfig, type ResolvedLlamaConfig, resolveLlamaConfig } from "./llama.js";
export { RotaryTable, rotaryInverseFrequencies, type RopeScaling } from "./rope.js";
export { normal_, uniform_, fill_ } from "./init.js";
