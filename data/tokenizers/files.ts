// Tokenizer files: a trained BPE written as Hugging Face's tokenizer.json (the layout GPT-2's
// has: ByteLevel pre-tokenizer, post-processor and decoder, a BPE model with vocab and merges,
// special tokens as added tokens) plus tokenizer_config.json; and loadTokenizer(dir), which
// reads the tokenizer.json (and tokenizer_config.json, when present) of any directory — a
// tokenizer made here, or a Hugging Face model directory.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TokenizerError } from "../errors.js";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type HfTokenizer, tokenizerFromJson } from "./hf.js";
import type { TrainedBpe } from "./trainer.js";

const enc = new TextEncoder();

/** tokenizer.json text for a trained BPE; key order and layout as the Rust crate writes them. */
export function bpeTokenizerJson(t: TrainedBpe): string {
  const firstSpecial = t.tokens.length;
  const added = t.specialTokens.map((content, i) => ({ id: firstSpecial + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  // vocab is written by hand: a token may be spelled "__proto__", which an object literal would eat
  const vocab = "{" + t.tokens.map((tok, id) => `${JSON.stringify(tok)}:${id}`).join(",") + "}";
  const model = {
    type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: "@VOCAB@", merges: t.merges,
  };
  const doc = {
    version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel }, post_processor: { type: "ByteLevel", ...byteLevel, trim_offsets: false },
    decoder: { type: "ByteLevel", ...byteLevel }, model,
  };
  return JSON.stringify(doc).replace('"@VOCAB@"', () => vocab) + "\n";
}

/** tokenizer_config.json for a trained BPE: the end-of-text token, no cleanup on decode. */
export function bpeTokenizerConfig(t: TrainedBpe): string {
  const eos = t.specialTokens[0] ?? null;
  const decoder: Record<string, unknown> = {};
  t.specialTokens.forEach((content, i) => (decoder[String(t.tokens.length + i)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }));
  return JSON.stringify({
    tokenizer_class: "PreTrainedTokenizerFast", added_tokens_decoder: decoder, eos_token: eos, bos_token: null, unk_token: null,
    pad_token: null, clean_up_tokenization_spaces: false, model_max_length: 1_000_000_000, extra: { made_by: "troupe tokenizer train" },
  }, null, 2) + "\n";
}

/** The tokenizer of a trained BPE (the same bytes writeTokenizerDir would store). */
export function tokenizerOfTrained(t: TrainedBpe): HfTokenizer {
  return tokenizerFromJson(enc.encode(bpeTokenizerJson(t)), enc.encode(bpeTokenizerConfig(t)));
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** Writes a tokenizer's files (tokenizer.json, tokenizer_config.json) into `dir`. */
export async function writeTokenizerDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, bytes] of files) {
    await writeAtomic(join(dir, name), bytes);
    written.push(join(dir, name));
  }
  return written;
}

async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new TokenizerError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/**
 * The tokenizer of a directory: its tokenizer.json, with tokenizer_config.json when there is
 * one (chat template, eos_token). A directory without tokenizer.json is a TokenizerError.
 */
export async function loadTokenizer(dir: string): Promise<HfTokenizer> {
  const json = await readOptional(join(dir, TOKENIZER_FILE));
  if (!json) throw new TokenizerError(`${dir} has no ${TOKENIZER_FILE} (give a directory made by \`troupe tokenizer train\` or a Hugging Face model directory)`);
  const config = await readOptional(join(dir, TOKENIZER_CONFIG_FILE));
  try {
    return tokenizerFromJson(json, config);
  } catch (err) {
    (err as Error).message = `${dir}: ${(err as Error).message}`;
    throw err;
  }
}

/** The tokenizer whose files a checkpoint carries (tokenizer.json and maybe tokenizer_config.json). */
export function tokenizerFromFiles(files: ReadonlyMap<string, Uint8Array>): HfTokenizer {
  const json = files.get(TOKENIZER_FILE);
  if (!json) throw new TokenizerError(`no ${TOKENIZER_FILE} among the files (${[...files.keys()].join(", ") || "none"})`);
  return tokenizerFromJson(json, files.get(TOKENIZER_CONFIG_FILE) ?? null);
}
