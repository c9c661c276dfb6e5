// GGUF tokenizer metadata for a Hugging Face byte-level BPE (a tokenizer.json like GPT-2's, or
// one `troupe tokenizer train` made), and the way back. llama.cpp's BPE vocabulary
// (tokenizer.ggml.model = "gpt2") takes the token strings in id order (byte-level spelling, as
// in tokenizer.json), the merges as "a b" strings in rank order, and a type per token: 1 normal,
// 3 control (added special tokens, e.g. <|endoftext|>), 4 user-defined (added, not special),
// 5 unused (ids the model has beyond the tokenizer's). The pre-tokenizer is named, not stored:
// "gpt-2" is llama.cpp's GPT-2 split regex, the one a ByteLevel pre-tokenizer with use_regex
// applies. Other layouts (a normalizer, a Split pre-tokenizer, SentencePiece-style byte
// fallback) have no faithful llama.cpp name here and are refused rather than approximated.
// One difference is llama.cpp's, not ours: with "gpt-2" its detokenizer "cleans up
// tokenization spaces" (" ," → ","), so text it decodes may lose such a space; token ids
// (tokenization, generation) are unaffected.
import type { Tokenizer } from "../../data/mod.js";
import { TOKENIZER_FILE, tokenizerFromJson } from "../../data/mod.js";
import { type GgufFile, type GgufKV, kv } from "../../kernels/mod.js";
import { ExportFormatError } from "../errors.js";

const NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

interface AddedJson {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
}

function parse(tok: Tokenizer): Record<string, unknown> {
  const bytes = tok.files.get(TOKENIZER_FILE);
  if (!bytes) throw new ExportFormatError(`tokenizer ${tok.name} has no ${TOKENIZER_FILE} to export`);
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

function isGpt2ByteLevel(pre: unknown): boolean {
  const p = pre as { type?: string; use_regex?: boolean; add_prefix_space?: boolean } | null;
  return !!p && p.type === "ByteLevel" && p.use_regex !== false && p.add_prefix_space !== true;
}

/** tokenizer.ggml.* for a byte-level BPE tokenizer.json; `vocabSize` is the model's (≥ the tokenizer's). */
export function bpeVocabMetadata(tok: Tokenizer, vocabSize: number): [string, GgufKV][] {
  const j = parse(tok);
  const m = j.model as { type?: string; vocab?: Record<string, number>; merges?: unknown[]; byte_fallback?: boolean } | undefined;
  const why = (s: string) => new ExportFormatError(`tokenizer ${tok.name}: ${s}; llama.cpp's "gpt2" BPE vocabulary with the "gpt-2" pre-tokenizer would tokenize differently, so it is not exported`);
  if (!m || m.type !== "BPE" || !m.vocab || !Array.isArray(m.merges)) throw why("not a BPE model with vocab and merges");
  if (m.byte_fallback) throw why("byte_fallback (SentencePiece-style) BPE");
  if (j.normalizer !== null && j.normalizer !== undefined) throw why("it has a normalizer");
  if (!isGpt2ByteLevel(j.pre_tokenizer)) throw why(`pre-tokenizer ${JSON.stringify(j.pre_tokenizer)?.slice(0, 80)} is not GPT-2's ByteLevel split`);
  if (tok.vocabSize > vocabSize) throw new ExportFormatError(`tokenizer ${tok.name} has ${tok.vocabSize} ids, the model only ${vocabSize}`);
  const tokens = new Array<string | undefined>(vocabSize);
  const types = new Array<number>(vocabSize).fill(UNUSED);
  for (const [t, id] of Object.entries(m.vocab)) {
    tokens[id] = t;
    types[id] = NORMAL;
  }
  for (const a of (j.added_tokens ?? []) as AddedJson[]) {
    tokens[a.id] = a.content;
    types[a.id] = a.special ? CONTROL : USER_DEFINED;
  }
  for (let i = 0; i < vocabSize; i++) tokens[i] ??= `<|troupe_unused_${i}|>`;
  const merges = m.merges.map((x) => (Array.isArray(x) ? `${x[0]} ${x[1]}` : String(x)));
  return [
    ["tokenizer.ggml.model", kv.string("gpt2")],
    ["tokenizer.ggml.pre", kv.string("gpt-2")],
    ["tokenizer.ggml.tokens", kv.array("string", tokens as string[])],
    ["tokenizer.ggml.token_type", kv.array("i32", types)],
    ["tokenizer.ggml.merges", kv.array("string", merges)],
    ["tokenizer.ggml.bos_token_id", kv.u32(tok.eot)],
    ["tokenizer.ggml.eos_token_id", kv.u32(tok.eot)],
    ["tokenizer.ggml.add_bos_token", kv.bool(false)],
    ["tokenizer.ggml.add_eos_token", kv.bool(false)],
  ];
}

/** The tokenizer.json (+ config) a GGUF's "gpt2" BPE vocabulary describes, as a troupe tokenizer. */
export function bpeTokenizerFromGguf(file: GgufFile, source: string): Tokenizer {
  const get = (k: string) => file.metadata.get(k)?.value;
  if (get("tokenizer.ggml.model") !== "gpt2") throw new ExportFormatError(`${source}: tokenizer model ${JSON.stringify(get("tokenizer.ggml.model"))} is not supported (gpt2 BPE)`);
  if (get("tokenizer.ggml.pre") !== "gpt-2") throw new ExportFormatError(`${source}: pre-tokenizer ${JSON.stringify(get("tokenizer.ggml.pre"))} is not supported here ("gpt-2")`);
  const tokens = get("tokenizer.ggml.tokens") as readonly string[] | undefined;
  const types = (get("tokenizer.ggml.token_type") as readonly number[] | undefined) ?? [];
  const merges = (get("tokenizer.ggml.merges") as readonly string[] | undefined) ?? [];
  if (!tokens) throw new ExportFormatError(`${source}: tokenizer.ggml.tokens is missing`);
  const vocab: string[] = [];
  const added: Record<string, unknown>[] = [];
  tokens.forEach((t, id) => {
    const ty = types[id] ?? NORMAL;
    if (ty === CONTROL || ty === USER_DEFINED) added.push({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: ty === CONTROL });
    else if (ty !== UNUSED) vocab.push(`${JSON.stringify(t)}:${id}`);
  });
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const doc = {
    version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...byteLevel }, post_processor: { type: "ByteLevel", ...byteLevel, trim_offsets: false },
    decoder: { type: "ByteLevel", ...byteLevel },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: "@VOCAB@", merges: merges.map((s) => s.split(" ")) },
  };
  const eos = get("tokenizer.ggml.eos_token_id");
  const config = { eos_token: typeof eos === "number" ? tokens[eos] ?? null : null, bos_token: null, clean_up_tokenization_spaces: false, extra: { made_by: `troupe from ${source}` } };
  const enc = new TextEncoder();
  const json = JSON.stringify(doc).replace('"@VOCAB@"', () => `{${vocab.join(",")}}`);
  return tokenizerFromJson(enc.encode(json), enc.encode(JSON.stringify(config)));
}
