// Text corpora as one token stream with a fixed validation split: the last `valFraction`
// (default 10%) of the text's UTF-8 bytes (moved back to a character boundary) is validation,
// the rest is training. The split is by position in the text, not in the tokens, so every
// tokenizer validates on the same text (bits per byte compare across tokenizers); the two
// parts are tokenized apart, so no token straddles the split, and windows never cross it.
// With the byte tokenizer the split is at the same token index as before (n - floor(n·f)).
import { readFile } from "node:fs/promises";
import { CorpusError } from "./errors.js";
import { byteTokenizer, type Tokenizer } from "./tokenizer.js";
import { expectNumber } from "./validate.js";

export const DEFAULT_VAL_FRACTION = 0.1;

export interface TextCorpus {
  readonly name: string;
  /** The whole stream. */
  readonly tokens: Int32Array;
  /** tokens[0, splitAt) — a view, not a copy. */
  readonly train: Int32Array;
  /** tokens[splitAt, n) — the last floor(n * valFraction) tokens. */
  readonly val: Int32Array;
  readonly splitAt: number;
  readonly vocabSize: number;
  readonly tokenizer: Tokenizer;
  /** UTF-8 bytes of the training and validation text (for bits per byte). */
  readonly bytes: { readonly train: number; readonly val: number };
}

export interface CorpusOptions {
  tokenizer?: Tokenizer;
  valFraction?: number;
  name?: string;
}

/** Index where validation starts: n - floor(n * valFraction). */
export function splitIndex(n: number, valFraction = DEFAULT_VAL_FRACTION): number {
  expectNumber("valFraction", valFraction, 0, 1);
  return n - Math.floor(n * valFraction);
}

export function corpusFromTokens(tokens: Int32Array, opts: CorpusOptions = {}): TextCorpus {
  const tokenizer = opts.tokenizer ?? byteTokenizer();
  const splitAt = splitIndex(tokens.length, opts.valFraction ?? DEFAULT_VAL_FRACTION);
  return {
    name: opts.name ?? "text",
    tokens,
    train: tokens.subarray(0, splitAt),
    val: tokens.subarray(splitAt),
    splitAt,
    vocabSize: tokenizer.vocabSize,
    tokenizer,
    bytes: { train: splitAt, val: tokens.length - splitAt },
  };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export function corpusFromText(text: string, opts: CorpusOptions = {}): TextCorpus {
  const tokenizer = opts.tokenizer ?? byteTokenizer();
  const buf = utf8.encode(text);
  let cut = splitIndex(buf.length, opts.valFraction ?? DEFAULT_VAL_FRACTION);
  while (cut > 0 && cut < buf.length && (buf[cut]! & 0xc0) === 0x80) cut--; // not inside a character
  const train = tokenizer.encode(fromUtf8.decode(buf.subarray(0, cut)));
  const val = tokenizer.encode(fromUtf8.decode(buf.subarray(cut)));
  const tokens = new Int32Array(train.length + val.length);
  tokens.set(train, 0);
  tokens.set(val, train.length);
  return {
    name: opts.name ?? "text",
    tokens,
    train: tokens.subarray(0, train.length),
    val: tokens.subarray(train.length),
    splitAt: train.length,
    vocabSize: tokenizer.vocabSize,
    tokenizer,
    bytes: { train: cut, val: buf.length - cut },
  };
}

/** Reads a UTF-8 text file (e.g. tinyshakespeare/input.txt) into a split token stream. */
export async function loadTextCorpus(path: string, opts: CorpusOptions = {}): Promise<TextCorpus> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CorpusError(`Cannot read corpus ${path}${code ? ` (${code})` : ""}`, { cause: err });
  }
  if (text.length === 0) throw new CorpusError(`Corpus ${path} is empty`);
  const name = opts.name ?? path.split(/[\\/]/).slice(-2).join("/");
  return corpusFromText(text, { ...opts, name });
}
