// Tokenizers turn text into token ids and back, through one interface the whole data path
// uses (corpora, the chat template, loss masks, bits per byte, checkpoints). Two kinds:
//   - bytes: every UTF-8 byte is one token, vocabulary 256, nothing reserved; the chat
//     template's end marker is the ASCII control byte ETX (0x03), which text never contains;
//   - a Hugging Face tokenizer.json (troupe's own BPE reader, tokenizers/hf.ts), e.g. one
//     trained by `troupe tokenizer train` or shipped in a model directory.

/** The end-of-response marker of the byte tokenizer's chat template: ASCII ETX, "end of text". */
export const END_MARKER = "\x03";
export const END_BYTE = 0x03;

/**
 * How a checkpoint names its tokenizer: "bytes", or a tokenizer.json (+ tokenizer_config.json)
 * identified by the SHA-256 of its bytes; the files travel with the checkpoint.
 */
export type TokenizerSpec =
  | "bytes"
  | {
      readonly kind: "hf";
      /** SHA-256 (hex) of tokenizer.json. */
      readonly sha256: string;
      /** SHA-256 of tokenizer_config.json, or null when there is none. */
      readonly configSha256: string | null;
      readonly vocabSize: number;
      readonly eot: number;
    };

export interface EncodeOptions {
  /** Add what the tokenizer's post-processor adds (e.g. a BOS token); default false. */
  readonly addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text; default false. */
  readonly skipSpecialTokens?: boolean;
}

/** Settings from tokenizer_config.json that the data path uses. */
export interface TokenizerSettings {
  /** The Jinja chat template, or null (then the plain "Q: … A: …" template is used). */
  readonly chatTemplate: string | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
}

/** What the rest of troupe needs from a tokenizer. */
export interface Tokenizer {
  readonly name: string;
  /** One more than the largest id (model vocabulary size needed). */
  readonly vocabSize: number;
  /** The token that ends a response; generation stops when it is sampled; SFT pads with it. */
  readonly eot: number;
  /** Text → ids. Added/special tokens written in the text become their ids, as in Hugging Face. */
  encode(text: string, options?: EncodeOptions): Int32Array;
  /** Never throws: invalid byte sequences and out-of-range ids decode to U+FFFD. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /**
   * UTF-8 bytes of text that one token stands for (bits per byte): a byte token 1, a BPE
   * token the length of its bytes; a special token (an end marker) counts as 1.
   */
  tokenBytes(id: number): number;
  readonly spec: TokenizerSpec;
  /** The files that carry it (tokenizer.json, tokenizer_config.json); empty for bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly settings: TokenizerSettings;
}

const encoder = new TextEncoder();
// fatal: false → invalid sequences become U+FFFD; ignoreBOM keeps a leading U+FEFF (lossless).
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

class ByteTokenizer implements Tokenizer {
  readonly name = "bytes";
  readonly vocabSize = 256;
  readonly eot = END_BYTE;
  readonly spec = "bytes" as const;
  readonly files: ReadonlyMap<string, Uint8Array> = new Map();
  readonly settings: TokenizerSettings = { chatTemplate: null, bosToken: null, eosToken: END_MARKER };

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

  tokenBytes(): number {
    return 1;
  }
}

const bytes = new ByteTokenizer();

/** The byte-level tokenizer (vocab 256, eot 0x03). Stateless; one shared instance. */
export function byteTokenizer(): Tokenizer {
  return bytes;
}

/** A stable text form of a spec ("bytes" or "hf:<sha256>"), for comparisons and messages. */
export function tokenizerId(spec: TokenizerSpec): string {
  return spec === "bytes" ? "bytes" : `hf:${spec.sha256}${spec.configSha256 ? "+" + spec.configSha256.slice(0, 16) : ""}`;
}
