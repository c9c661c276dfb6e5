// The tokenizer a live model carries: attached when the model is built or loaded (a checkpoint's
// tokenizer.json, a Hugging Face directory's, a corpus's BPE), bytes when none was. Kept beside
// the model rather than in it, so every architecture carries one the same way; the vocabulary
// it must fit comes from the architecture's dims.
import { type Tokenizer, byteTokenizer } from "../data/mod.js";
import type { CausalLM } from "./arch/mod.js";
import { ModelConfigError } from "./errors.js";

const tokenizers = new WeakMap<CausalLM, Tokenizer>();

/** Makes `tok` the model's tokenizer (a tokenizer.json's ids must fit the model's vocabulary). */
export function attachTokenizer<M extends CausalLM>(model: M, tok: Tokenizer): M {
  // bytes: small test models use fewer than 256 ids, as they always have
  const vocab = model.dims.vocabSize;
  if (tok.spec !== "bytes" && tok.vocabSize > vocab) {
    throw new ModelConfigError("tokenizer", `the tokenizer has ${tok.vocabSize} ids, the model's vocabulary only ${vocab}`);
  }
  tokenizers.set(model, tok);
  return model;
}

/** The model's tokenizer (bytes unless another was attached). */
export function tokenizerOf(model: CausalLM): Tokenizer {
  return tokenizers.get(model) ?? byteTokenizer();
}
