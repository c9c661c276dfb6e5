export { Module, ModuleList, type Layer } from "./module.js";
export { Linear, Embedding, LayerNorm, RMSNorm, type LinearOptions } from "./layers.js";
export { MultiHeadAttention, MLP, TransformerBlock, Activation, type BlockOptions, type InitOptions } from "./transformer.js";
export { GPT, type GPTConfig, type ResolvedGPTConfig, type GPTOutput, type ForwardOptions } from "./gpt.js";
export { normal_, uniform_, fill_ } from "./init.js";
