// Added tokens (special tokens such as <|endoftext|>, and user-added ones) are cut out of the
// text before normalization and BPE: at each position the longest added token that starts
// there wins, leftmost first (aho-corasick leftmost-longest in the Rust crate, a trie in
// @huggingface/tokenizers). lstrip/rstrip eat the whitespace beside a token.
import { TokenizerError, UnsupportedTokenizerError } from "../errors.js";

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  /** Matched after normalization (on normalized text) rather than on the raw text. */
  readonly normalized: boolean;
}

export function parseAddedTokens(raw: unknown): AddedToken[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new TokenizerError("added_tokens: expected a list");
  return raw.map((x, i) => {
    const t = x as Record<string, unknown>;
    if (typeof t?.content !== "string" || t.content.length === 0 || !Number.isSafeInteger(t.id) || (t.id as number) < 0) {
      throw new TokenizerError(`added_tokens[${i}]: expected {id: a non-negative integer, content: a non-empty string}`);
    }
    if (t.single_word === true) {
      throw new UnsupportedTokenizerError(`added_tokens[${i}].single_word=true`, `${JSON.stringify(t.content)} may only match whole words; troupe (like @huggingface/tokenizers) does not implement that rule`);
    }
    const special = t.special === true;
    return { id: t.id as number, content: t.content, special, lstrip: t.lstrip === true, rstrip: t.rstrip === true, normalized: typeof t.normalized === "boolean" ? t.normalized : !special };
  });
}

/** One piece of text: an added token, or text to tokenize normally. */
export type Section = { readonly token: AddedToken } | { readonly text: string };

export class AddedSplitter {
  private readonly byFirst = new Map<string, AddedToken[]>();

  constructor(tokens: readonly AddedToken[], contentOf: (t: AddedToken) => string = (t) => t.content) {
    for (const t of tokens) {
      const c = contentOf(t);
      if (!c) continue;
      const list = this.byFirst.get(c[0]!) ?? [];
      list.push({ ...t, content: c });
      this.byFirst.set(c[0]!, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.content.length - a.content.length);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  split(text: string): Section[] {
    if (this.byFirst.size === 0) return text ? [{ text }] : [];
    const out: Section[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.byFirst.get(text[i]!)?.find((t) => text.startsWith(t.content, i));
      if (!hit) {
        i++;
        continue;
      }
      if (i > start) out.push({ text: text.slice(start, i) });
      out.push({ token: hit });
      i += hit.content.length;
      start = i;
    }
    if (start < text.length) out.push({ text: text.slice(start) });
    // lstrip/rstrip: the whitespace beside the token goes with it
    for (let k = 0; k < out.length; k++) {
      const s = out[k]!;
      if (!("token" in s)) continue;
      const before = out[k - 1];
      const after = out[k + 1];
      if (s.token.lstrip && before && "text" in before) out[k - 1] = { text: before.text.trimEnd() };
      if (s.token.rstrip && after && "text" in after) out[k + 1] = { text: after.text.trimStart() };
    }
    // trimmed sections may be empty now; they keep their place (a section's index matters to
    // Metaspace's prepend_scheme "first"), the caller skips them
    return out;
  }
}
