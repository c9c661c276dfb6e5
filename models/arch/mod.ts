// Architectures (gpt2, llama) behind one registry keyed by Hugging Face's model_type.
export type { Architecture, CausalLM, HfTensorName } from "./types.js";
export { architecture, architectureNames, architectureOf, configOf, createModel, modelDigest } from "./registry.js";
export { gpt2 } from "./gpt2.js";
export { llama } from "./llama.js";
