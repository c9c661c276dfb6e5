// The Rust `tokenizers` crate (the one Python's transformers uses), through the prebuilt
// Node binding @anush008/tokenizers (crate 0.22). It is a native module: on a platform it
// has no build for it is missing, and the tests that need it say so (and fail under CI).
import { createRequire } from "node:module";

export interface RustEncoding {
  getIds(): number[];
}
export interface RustTokenizer {
  encode(text: string, pair: null, options: { addSpecialTokens: boolean }): Promise<RustEncoding>;
}

let loaded: { fromString(json: string): RustTokenizer } | null = null;
let why: string | null = null;
try {
  loaded = (createRequire(import.meta.url)("@anush008/tokenizers") as { Tokenizer: { fromString(json: string): RustTokenizer } }).Tokenizer;
} catch (err) {
  why = `the Rust tokenizers binding @anush008/tokenizers does not load here (${(err as Error).message.split("\n")[0]})`;
}

/** Why the Rust reference is unavailable, or null. */
export const rustMissing: string | null = why;

export function rustTokenizer(json: string): RustTokenizer {
  if (!loaded) throw new Error(why ?? "no Rust tokenizers");
  return loaded.fromString(json);
}
