// The pipeline pieces of a tokenizer.json other than the model: normalizers, pre-tokenizers,
// post-processors and decoders, built from their JSON with the semantics of the Rust crate
// and of @huggingface/tokenizers. Each supported type is listed in docs/data.md; any other
// type or option value is refused with an UnsupportedTokenizerError naming it
// (e.g. "normalizer.type=BertNormalizer", "pre_tokenizer.Split.behavior=Contiguous").
import { TokenizerError, UnsupportedTokenizerError } from "../errors.js";
import { BYTE_TO_CHAR, fromByteLevel, gpt2Pieces } from "./byte-level.js";
import { compileOniguruma, literalRegex } from "./regex.js";

type Json = Record<string, unknown>;
export type Normalizer = (text: string) => string;
/** Words of one section; `section` is the index of the section among the added-token splits. */
export type PreTokenizer = (pieces: string[], section: number) => string[];
export type PostProcessor = (ids: number[]) => number[];
/** Token strings → text pieces (joined at the end). */
export type Decoder = (tokens: string[], isAdded: (t: string) => boolean) => string[];

const obj = (x: unknown, where: string): Json => {
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw new TokenizerError(`${where}: expected an object, got ${JSON.stringify(x)?.slice(0, 60)}`);
  return x as Json;
};
const list = (x: unknown, where: string): unknown[] => {
  if (!Array.isArray(x)) throw new TokenizerError(`${where}: expected a list`);
  return x;
};
const str = (x: unknown, where: string): string => {
  if (typeof x !== "string") throw new TokenizerError(`${where}: expected a string, got ${JSON.stringify(x)?.slice(0, 60)}`);
  return x;
};

/** A `pattern` object: {String: "…"} or {Regex: "…"}. */
function pattern(x: unknown, where: string): RegExp {
  const p = obj(x, where);
  if (typeof p.String === "string") return literalRegex(p.String);
  if (typeof p.Regex === "string") return compileOniguruma(p.Regex);
  throw new TokenizerError(`${where}: expected {String} or {Regex}`);
}

export function normalizer(x: unknown, where = "normalizer"): Normalizer | null {
  if (x === null || x === undefined) return null;
  const n = obj(x, where);
  switch (n.type) {
    case "NFC": case "NFD": case "NFKC": case "NFKD": {
      const form = n.type;
      return (t) => t.normalize(form);
    }
    case "Lowercase":
      return (t) => t.toLowerCase();
    case "Prepend": {
      const p = str(n.prepend, `${where}.prepend`);
      return (t) => (t.length ? p + t : t);
    }
    case "Replace": {
      const re = pattern(n.pattern, `${where}.pattern`);
      const content = str(n.content ?? "", `${where}.content`);
      return (t) => t.replaceAll(re, () => content);
    }
    case "Strip": {
      const left = n.strip_left === true;
      const right = n.strip_right === true;
      return (t) => (left && right ? t.trim() : left ? t.trimStart() : right ? t.trimEnd() : t);
    }
    case "Sequence": {
      const parts = list(n.normalizers, `${where}.normalizers`).map((p, i) => normalizer(p, `${where}.normalizers[${i}]`)).filter((p): p is Normalizer => p !== null);
      return (t) => parts.reduce((acc, f) => f(acc), t);
    }
    default:
      throw new UnsupportedTokenizerError(`${where}.type=${String(n.type)}`, "troupe reads the normalizers NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip and Sequence");
  }
}

/** Whether a vocabulary token has `ch` anywhere but at its start (then splitting on it changes results). */
export type VocabProbe = (ch: string) => boolean;

export function preTokenizer(x: unknown, probe: VocabProbe, where = "pre_tokenizer"): PreTokenizer | null {
  if (x === null || x === undefined) return null;
  const p = obj(x, where);
  const each = (f: (piece: string, section: number) => string[]): PreTokenizer => (pieces, section) => pieces.flatMap((piece) => f(piece, section));
  switch (p.type) {
    case "ByteLevel": {
      const prefix = p.add_prefix_space === true;
      const useRegex = p.use_regex !== false;
      return each((piece) => {
        const text = prefix && !piece.startsWith(" ") ? " " + piece : piece;
        return (useRegex ? gpt2Pieces(text) : [text]).map(byteLevelString);
      });
    }
    case "Split": {
      const re = pattern(p.pattern, `${where}.pattern`);
      const behavior = String(p.behavior ?? "");
      if (p.invert === true) throw new UnsupportedTokenizerError(`${where}.Split.invert=true`, "only invert: false is supported");
      if (behavior !== "Isolated" && behavior !== "Removed") {
        throw new UnsupportedTokenizerError(`${where}.Split.behavior=${behavior}`, "only the Isolated and Removed behaviours are supported (@huggingface/tokenizers implements no others either)");
      }
      return each((piece) => splitBy(piece, re, behavior === "Isolated"));
    }
    case "Metaspace": {
      const rep = str(p.replacement ?? "\u2581", `${where}.replacement`);
      const scheme = p.prepend_scheme ?? (p.add_prefix_space === false ? "never" : "always");
      if (scheme !== "always" && scheme !== "first" && scheme !== "never") throw new UnsupportedTokenizerError(`${where}.Metaspace.prepend_scheme=${String(scheme)}`, "expected always, first or never");
      if (p.split !== false && probe(rep)) {
        // the Rust crate splits before each replacement character, @huggingface/tokenizers does
        // not; with such a vocabulary ("▁▁") the two give different ids, so neither is assumed
        throw new UnsupportedTokenizerError(`${where}.Metaspace.split=true`, `the vocabulary has tokens with ${JSON.stringify(rep)} inside, where splitting on it changes the ids; set "split": false if the tokenizer was made that way`);
      }
      return each((piece, section) => {
        let t = piece.replaceAll(" ", rep);
        if (!t.startsWith(rep) && (scheme === "always" || (scheme === "first" && section === 0))) t = rep + t;
        return [t];
      });
    }
    case "Digits": {
      const re = p.individual_digits === true ? /[^\d]+|\d/g : /[^\d]+|\d+/g;
      return each((piece) => piece.match(re) ?? []);
    }
    case "Sequence": {
      const parts = list(p.pretokenizers, `${where}.pretokenizers`).map((q, i) => preTokenizer(q, probe, `${where}.pretokenizers[${i}]`)).filter((q): q is PreTokenizer => q !== null);
      return (pieces, section) => parts.reduce((acc, f) => f(acc, section), pieces);
    }
    default:
      throw new UnsupportedTokenizerError(`${where}.type=${String(p.type)}`, "troupe reads the pre-tokenizers ByteLevel, Split (Isolated, Removed), Metaspace, Digits and Sequence");
  }
}

/** A piece as GPT-2 byte-level characters. */
function byteLevelString(piece: string): string {
  const bytes = new TextEncoder().encode(piece);
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!];
  return s;
}

/** Split keeping the matches (Isolated) or dropping them (Removed); empty pieces are dropped. */
function splitBy(text: string, re: RegExp, keep: boolean): string[] {
  const out: string[] = [];
  let prev = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > prev) out.push(text.slice(prev, m.index));
    if (keep && m[0].length > 0) out.push(m[0]);
    prev = m.index! + m[0].length;
  }
  if (prev < text.length) out.push(text.slice(prev));
  return out;
}

/** Special-token ids resolved from the post-processor's JSON. */
export function postProcessor(x: unknown, where = "post_processor"): PostProcessor | null {
  if (x === null || x === undefined) return null;
  const p = obj(x, where);
  switch (p.type) {
    case "ByteLevel":
      return (ids) => ids;
    case "TemplateProcessing": {
      const specials = obj(p.special_tokens ?? {}, `${where}.special_tokens`);
      const parts: (number[] | "A")[] = list(p.single, `${where}.single`).map((item, i) => {
        const it = obj(item, `${where}.single[${i}]`);
        if (it.Sequence) {
          const id = obj(it.Sequence, `${where}.single[${i}].Sequence`).id;
          if (id !== "A") throw new UnsupportedTokenizerError(`${where}.single[${i}].Sequence.id=${String(id)}`, "a single-sequence template can only hold sequence A");
          return "A";
        }
        const name = str(obj(it.SpecialToken, `${where}.single[${i}].SpecialToken`).id, `${where}.single[${i}].SpecialToken.id`);
        const entry = obj(specials[name], `${where}.special_tokens[${JSON.stringify(name)}]`);
        return list(entry.ids, `${where}.special_tokens[${JSON.stringify(name)}].ids`).map((v) => Number(v));
      });
      return (ids) => parts.flatMap((part) => (part === "A" ? ids : part));
    }
    case "RobertaProcessing": case "BertProcessing": {
      const cls = Number(list(p.cls, `${where}.cls`)[1]);
      const sep = Number(list(p.sep, `${where}.sep`)[1]);
      return (ids) => [cls, ...ids, sep];
    }
    case "Sequence": {
      const parts = list(p.processors, `${where}.processors`).map((q, i) => postProcessor(q, `${where}.processors[${i}]`)).filter((q): q is PostProcessor => q !== null);
      return (ids) => parts.reduce((acc, f) => f(acc), ids);
    }
    default:
      throw new UnsupportedTokenizerError(`${where}.type=${String(p.type)}`, "troupe reads the post-processors TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing and Sequence");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function decoder(x: unknown, where = "decoder"): Decoder | null {
  if (x === null || x === undefined) return null;
  const d = obj(x, where);
  switch (d.type) {
    case "ByteLevel":
      return (tokens, isAdded) => {
        const out: string[] = [];
        let run: string[] = [];
        const flush = () => {
          if (run.length) out.push(utf8.decode(fromByteLevel(run.join("")) ?? new TextEncoder().encode(run.join(""))));
          run = [];
        };
        for (const t of tokens) {
          if (isAdded(t)) {
            flush();
            out.push(t);
          } else run.push(t);
        }
        flush();
        return out;
      };
    case "Replace": {
      const re = pattern(d.pattern, `${where}.pattern`);
      const content = str(d.content ?? "", `${where}.content`);
      return (tokens) => tokens.map((t) => t.replaceAll(re, () => content));
    }
    case "ByteFallback":
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        for (const t of tokens) {
          const m = BYTE_TOKEN.exec(t);
          if (m) bytes.push(parseInt(m[1]!, 16));
          else {
            if (bytes.length) out.push(utf8.decode(Uint8Array.from(bytes)));
            bytes = [];
            out.push(t);
          }
        }
        if (bytes.length) out.push(utf8.decode(Uint8Array.from(bytes)));
        return out;
      };
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Strip": {
      const content = str(d.content ?? " ", `${where}.content`);
      const start = Number(d.start ?? 0);
      const stop = Number(d.stop ?? 0);
      return (tokens) => tokens.map((t) => {
        let a = 0;
        while (a < start && t[a] === content) a++;
        let b = t.length;
        while (t.length - b < stop && b > a && t[b - 1] === content) b--;
        return t.slice(a, b);
      });
    }
    case "Metaspace": {
      const rep = str(d.replacement ?? "\u2581", `${where}.replacement`);
      const strip = (d.prepend_scheme ?? (d.add_prefix_space === false ? "never" : "always")) !== "never";
      return (tokens) => tokens.map((t, i) => {
        const s = t.replaceAll(rep, " ");
        return i === 0 && strip && s.startsWith(" ") ? s.slice(1) : s;
      });
    }
    case "Sequence": {
      const parts = list(d.decoders, `${where}.decoders`).map((q, i) => decoder(q, `${where}.decoders[${i}]`)).filter((q): q is Decoder => q !== null);
      return (tokens, isAdded) => parts.reduce((acc, f) => f(acc, isAdded), tokens);
    }
    default:
      throw new UnsupportedTokenizerError(`${where}.type=${String(d.type)}`, "troupe reads the decoders ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and Sequence");
  }
}

/** True when `x` (a pre-tokenizer or decoder JSON) is or contains a ByteLevel step. */
export function hasByteLevel(x: unknown): boolean {
  if (typeof x !== "object" || x === null) return false;
  const j = x as Json;
  if (j.type === "ByteLevel") return true;
  const inner = (j.pretokenizers ?? j.decoders) as unknown[] | undefined;
  return Array.isArray(inner) && inner.some(hasByteLevel);
}
