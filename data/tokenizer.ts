// Tokenizers turn text into token ids and back. The default is byte-level: every UTF-8 byte
// is one token, vocabulary 256, nothing reserved. The chat template's end marker is the
// ASCII control byte ETX (0x03), which ordinary text never contains.

/** The end-of-response marker of the chat template: ASCII ETX, "end of text". */
export const END_MARKER = "\x03";
export const END_BYTE = 0x03;

/** What the rest of troupe needs from a tokenizer, so a BPE can plug in later. */
export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  /** The token that ends a response; generation stops when it is sampled. */
  readonly eot: number;
  encode(text: string): Int32Array;
  /** Never throws: invalid byte sequences and out-of-range ids decode to U+FFFD. */
  decode(ids: ArrayLike<number>): string;
}

const encoder = new TextEncoder();
// fatal: false → invalid sequences become U+FFFD; ignoreBOM keeps a leading U+FEFF (lossless).
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

class ByteTokenizer implements Tokenizer {
  readonly name = "bytes";
  readonly vocabSize = 256;
  readonly eot = END_BYTE;

  encode(text: string): Int32Array {
    return Int32Array.from(encoder.encode(text));
  }

  decode(ids: ArrayLike<number>): string {
    const bytes = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // 0xFF never occurs in valid UTF-8, so an id outside the vocabulary decodes to U+FFFD.
      bytes[i] = Number.isInteger(id) && id >= 0 && id < 256 ? id : 0xff;
    }
    return decoder.decode(bytes);
  }
}

const bytes = new ByteTokenizer();

/** The byte-level tokenizer (vocab 256, eot 0x03). Stateless; one shared instance. */
export function byteTokenizer(): Tokenizer {
  return bytes;
}
