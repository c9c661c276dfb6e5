// Text corpora as one token stream with a fixed validation split: the last `valFraction`
// (default 10%) of the tokens is validation, the rest is training. The split is by position,
// so it never changes with the seed and windows never straddle it.
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
  };
}

export function corpusFromText(text: string, opts: CorpusOptions = {}): TextCorpus {
  const tokenizer = opts.tokenizer ?? byteTokenizer();
  return corpusFromTokens(tokenizer.encode(text), { ...opts, tokenizer });
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
