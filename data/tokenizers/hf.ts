// troupe's reader of Hugging Face tokenizer.json files (BPE models): added tokens are cut out
// first, the rest is normalized, pre-tokenized and BPE-encoded, then the post-processor may add
// special tokens. Decoding maps ids to token strings and runs the decoder chain. It is shown to
// give the same ids as @huggingface/tokenizers (tests/data/11.tokenizer-parity.test.ts).
import { createHash } from "node:crypto";
import { TokenizerError, UnsupportedTokenizerError } from "../errors.js";
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerSettings, TokenizerSpec } from "../tokenizer.js";
import { AddedSplitter, type AddedToken, parseAddedTokens } from "./added.js";
import { BpeModel } from "./bpe.js";
import { type Decoder, type Normalizer, type PostProcessor, type PreTokenizer, decoder, hasByteLevel, normalizer, postProcessor, preTokenizer } from "./components.js";
import { fromByteLevel } from "./byte-level.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

/** A tokenizer.json tokenizer, with what tests and tools look at besides the Tokenizer interface. */
export interface HfTokenizer extends Tokenizer {
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly addedTokens: readonly AddedToken[];
}

const END_NAMES = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<|eot_id|>", "<|im_end|>", "<eos>"];
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function parseJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new TokenizerError(`${file} is not valid JSON (${bytes.byteLength} bytes; truncated?)`, { cause: err });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new TokenizerError(`${file} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** `"<s>"` or `{ "content": "<s>", … }` (tokenizer_config.json writes both). */
function tokenName(x: unknown): string | null {
  if (typeof x === "string") return x;
  if (x && typeof x === "object" && typeof (x as { content?: unknown }).content === "string") return (x as { content: string }).content;
  return null;
}

function settingsOf(config: Record<string, unknown> | null): TokenizerSettings & { cleanup: boolean } {
  let chat: string | null = null;
  const ct = config?.chat_template;
  if (typeof ct === "string") chat = ct;
  else if (Array.isArray(ct)) chat = (ct.find((t) => (t as { name?: string }).name === "default") as { template?: string } | undefined)?.template ?? null;
  return { chatTemplate: chat, bosToken: tokenName(config?.bos_token), eosToken: tokenName(config?.eos_token), cleanup: config?.clean_up_tokenization_spaces === true };
}

class HfTokenizerImpl implements HfTokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly eot: number;
  readonly spec: TokenizerSpec;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly settings: TokenizerSettings;
  readonly addedTokens: AddedToken[];
  private readonly cleanup: boolean;
  private readonly model: BpeModel;
  private readonly normalize: Normalizer | null;
  private readonly pre: PreTokenizer | null;
  private readonly post: PostProcessor | null;
  private readonly dec: Decoder | null;
  private readonly raw: AddedSplitter;
  private readonly afterNorm: AddedSplitter;
  private readonly tokens: string[];
  private readonly ids = new Map<string, number>();
  private readonly added = new Set<string>();
  private readonly special = new Set<number>();
  private readonly byteLevel: boolean;
  private bytesOf: Int32Array | null = null;

  constructor(json: Uint8Array, config: Uint8Array | null) {
    const j = parseJson(json, TOKENIZER_FILE);
    const c = config ? parseJson(config, TOKENIZER_CONFIG_FILE) : null;
    const m = j.model as Record<string, unknown> | undefined;
    if (!m || typeof m !== "object") throw new TokenizerError(`${TOKENIZER_FILE} has no "model"`);
    if (m.type !== "BPE") throw new UnsupportedTokenizerError(`model.type=${String(m.type)}`, "troupe reads BPE models (byte-level like GPT-2/Llama-3, or SentencePiece-style with byte_fallback like Llama-2); WordPiece and Unigram are not supported");
    if (m.dropout !== null && m.dropout !== undefined && m.dropout !== 0) throw new UnsupportedTokenizerError(`model.dropout=${String(m.dropout)}`, "BPE dropout makes encoding random; set it to null");
    for (const k of ["continuing_subword_prefix", "end_of_word_suffix"] as const) {
      if (m[k] !== null && m[k] !== undefined && m[k] !== "") throw new UnsupportedTokenizerError(`model.${k}=${JSON.stringify(m[k])}`, "only byte-level and SentencePiece-style BPE models are supported");
    }
    if (!m.vocab || typeof m.vocab !== "object") throw new TokenizerError("model.vocab: expected an object of token → id");
    const vocab = new Map<string, number>(Object.entries(m.vocab as Record<string, number>));
    if (!Array.isArray(m.merges)) throw new TokenizerError("model.merges: expected a list");
    const merges = (m.merges as unknown[]).map((x, i): [string, string] => {
      if (Array.isArray(x) && x.length === 2 && typeof x[0] === "string" && typeof x[1] === "string") return [x[0], x[1]];
      if (typeof x === "string") {
        const parts = x.split(" ");
        if (parts.length === 2) return [parts[0]!, parts[1]!];
      }
      throw new TokenizerError(`model.merges[${i}]: expected "a b" or ["a", "b"], got ${JSON.stringify(x)?.slice(0, 60)}`);
    });
    this.model = new BpeModel({
      vocab, merges, unkToken: typeof m.unk_token === "string" ? m.unk_token : null,
      fuseUnk: m.fuse_unk === true, byteFallback: m.byte_fallback === true, ignoreMerges: m.ignore_merges === true,
    });
    this.addedTokens = parseAddedTokens(j.added_tokens);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    for (const t of this.addedTokens) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.tokens = new Array<string>(this.vocabSize);
    for (const [t, id] of vocab) {
      this.tokens[id] = t;
      this.ids.set(t, id);
    }
    for (const t of this.addedTokens) {
      this.tokens[t.id] = t.content;
      this.ids.set(t.content, t.id);
      this.added.add(t.content);
      if (t.special) this.special.add(t.id);
    }
    const probe = (ch: string) => [...vocab.keys()].some((t) => t.indexOf(ch, 1) > 0);
    this.normalize = normalizer(j.normalizer);
    this.pre = preTokenizer(j.pre_tokenizer, probe);
    this.post = postProcessor(j.post_processor);
    this.dec = decoder(j.decoder);
    this.byteLevel = hasByteLevel(j.pre_tokenizer) || hasByteLevel(j.decoder);
    const norm = this.normalize;
    this.raw = new AddedSplitter(this.addedTokens.filter((t) => !t.normalized || norm === null));
    this.afterNorm = new AddedSplitter(this.addedTokens.filter((t) => t.normalized && norm !== null), (t) => norm!(t.content));
    const s = settingsOf(c);
    this.settings = { chatTemplate: s.chatTemplate, bosToken: s.bosToken, eosToken: s.eosToken };
    this.cleanup = s.cleanup;
    this.eot = this.findEot();
    const digest = sha256(json);
    this.spec = { kind: "hf", sha256: digest, configSha256: config ? sha256(config) : null, vocabSize: this.vocabSize, eot: this.eot };
    this.name = `tokenizer.json ${digest.slice(0, 12)} (vocab ${this.vocabSize})`;
    const files = new Map<string, Uint8Array>([[TOKENIZER_FILE, json]]);
    if (config) files.set(TOKENIZER_CONFIG_FILE, config);
    this.files = files;
  }

  private findEot(): number {
    const named = this.settings.eosToken;
    if (named !== null) {
      const id = this.ids.get(named);
      if (id === undefined) throw new TokenizerError(`${TOKENIZER_CONFIG_FILE}: eos_token ${JSON.stringify(named)} is not in the vocabulary`);
      return id;
    }
    for (const name of END_NAMES) {
      const t = this.addedTokens.find((a) => a.content === name);
      if (t) return t.id;
    }
    throw new TokenizerError(`no end-of-text token: ${TOKENIZER_CONFIG_FILE} names no eos_token and no added token is one of ${END_NAMES.join(" ")}`);
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const ids: number[] = [];
    this.raw.split(text).forEach((s, section) => {
      if ("token" in s) return void ids.push(s.token.id);
      const t = this.normalize && s.text ? this.normalize(s.text) : s.text;
      if (!t) return;
      for (const sub of this.afterNorm.split(t)) {
        if ("token" in sub) ids.push(sub.token.id);
        else if (sub.text) for (const w of this.pre ? this.pre([sub.text], section) : [sub.text]) this.model.encodeWord(w, ids);
      }
    });
    return Int32Array.from(options.addSpecialTokens && this.post ? this.post(ids) : ids);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (options.skipSpecialTokens && this.special.has(id)) continue;
      tokens.push((Number.isInteger(id) ? this.tokens[id] : undefined) ?? "\uFFFD");
    }
    const isAdded = (t: string) => this.added.has(t) || t === "\uFFFD";
    const text = this.dec ? this.dec(tokens, isAdded).join("") : tokens.join(" ");
    return this.cleanup ? cleanUp(text) : text;
  }

  tokenBytes(id: number): number {
    if (!this.bytesOf) {
      const enc = new TextEncoder();
      const out = new Int32Array(this.vocabSize);
      for (let i = 0; i < this.vocabSize; i++) {
        const t = this.tokens[i];
        if (t === undefined) continue;
        if (this.special.has(i)) out[i] = 1;
        else if (this.added.has(t)) out[i] = enc.encode(t).length;
        else if (/^<0x[0-9A-Fa-f]{2}>$/.test(t)) out[i] = 1;
        else if (this.byteLevel && fromByteLevel(t)) out[i] = t.length;
        else out[i] = enc.encode(t.replaceAll("\u2581", " ")).length;
      }
      this.bytesOf = out;
    }
    return id >= 0 && id < this.vocabSize ? this.bytesOf[id]! : 0;
  }
}

/** transformers' clean_up_tokenization (only when tokenizer_config.json asks for it). */
function cleanUp(t: string): string {
  return t.replace(/ \./g, ".").replace(/ \?/g, "?").replace(/ !/g, "!").replace(/ ,/g, ",").replace(/ ' /g, "'")
    .replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");
}

/** A tokenizer from the bytes of tokenizer.json (and tokenizer_config.json when there is one). */
export function tokenizerFromJson(json: Uint8Array, config: Uint8Array | null = null): HfTokenizer {
  return new HfTokenizerImpl(json, config);
}
