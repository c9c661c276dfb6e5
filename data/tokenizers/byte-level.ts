// GPT-2's byte-level alphabet, as Hugging Face's ByteLevel pre-tokenizer and decoder use it:
// every byte 0..255 is one printable character, so a byte string becomes a string of
// "characters" that a BPE vocabulary can hold as JSON keys. Printable Latin-1 bytes map to
// themselves; the other 68 (controls, space, NBSP, soft hyphen) map to U+0100.. in byte order
// (space → "Ġ" U+0120, newline → "Ċ" U+010A). The pre-tokenizer's split regex is GPT-2's.

/** The bytes whose character is themselves, in GPT-2's order: '!'..'~', '¡'..'¬', '®'..'ÿ'. */
function printable(): number[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  return bs;
}

/**
 * The 256 bytes in GPT-2's vocabulary order (printable ones first, then the remapped ones):
 * GPT-2's ids 0..255 are exactly these bytes' characters, and so are troupe's trained BPEs'.
 */
export const BYTE_ORDER: readonly number[] = (() => {
  const bs = printable();
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) bs.push(b);
  return bs;
})();

/** byte → its one-character string. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out = new Array<string>(256);
  const bs = printable();
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) out[b] = String.fromCharCode(256 + n++);
  return out;
})();

/** UTF-16 code unit of a byte-level character → its byte, or -1 (index 0..0x143). */
const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(0x144).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => (t[c.charCodeAt(0)] = b));
  return t;
})();

/** The byte a byte-level character stands for, or -1 when it is not one of the 256. */
export function charToByte(code: number): number {
  return code < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[code]! : -1;
}

const utf8 = new TextEncoder();

/** UTF-8 bytes of `text` as byte-level characters ("a b" → "aĠb"). */
export function toByteLevel(text: string): string {
  const bytes = utf8.encode(text);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]!]!;
  return out;
}

/** The bytes of a byte-level string; null when a character is not byte-level. */
export function fromByteLevel(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = charToByte(s.charCodeAt(i));
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}

/**
 * GPT-2's pre-tokenizer split, as the ByteLevel pre-tokenizer applies it with use_regex: true
 * (and exactly as written in @huggingface/tokenizers, JavaScript `\s` semantics).
 */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The pieces GPT-2's regex cuts `text` into (their concatenation is `text`). */
export function gpt2Pieces(text: string): string[] {
  return text.match(GPT2_SPLIT) ?? [];
}
