// The GGUF tokenizer metadata llama.cpp needs for troupe's byte tokenizer (vocab 256, token
// id = byte). llama.cpp has no byte-only vocabulary type, so the bytes are written as a GPT-2
// byte-level BPE vocabulary with no merges: token i is byte i in GPT-2's byte-to-unicode form
// ("!" for 0x21, "Ġ" for a space, "Ā" for 0x00, ...). With no merges llama.cpp's BPE leaves
// every byte its own token, so it tokenizes any text to exactly troupe's ids and detokenizes
// them back byte for byte. The pre-tokenizer is "deepseek-llm": its regex only splits text into
// words (each byte still becomes its token) and, unlike "gpt-2", it does not "clean up
// tokenization spaces" (llama.cpp would otherwise drop the space in " ," or " 's" when
// detokenizing). BOS and EOS are the end marker ETX (0x03); no BOS is added.
import { type GgufKV, kv } from "../../kernels/mod.js";

/** GPT-2's bytes_to_unicode: byte → the printable character standing for it. */
export function byteToUnicode(): string[] {
  const bs: number[] = [];
  for (let c = 0x21; c <= 0x7e; c++) bs.push(c);
  for (let c = 0xa1; c <= 0xac; c++) bs.push(c);
  for (let c = 0xae; c <= 0xff; c++) bs.push(c);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}

export interface ByteVocabOptions {
  /** The token that ends a response (default 0x03, troupe's end marker). */
  readonly eot?: number;
}

/** tokenizer.ggml.* entries for the byte vocabulary. */
export function byteVocabMetadata(options: ByteVocabOptions = {}): [string, GgufKV][] {
  const eot = options.eot ?? 0x03;
  return [
    ["tokenizer.ggml.model", kv.string("gpt2")],
    ["tokenizer.ggml.pre", kv.string("deepseek-llm")],
    ["tokenizer.ggml.tokens", kv.array("string", byteToUnicode())],
    ["tokenizer.ggml.token_type", kv.array("i32", new Array(256).fill(1))], // 1 = normal
    ["tokenizer.ggml.merges", kv.array("string", [])],
    ["tokenizer.ggml.bos_token_id", kv.u32(eot)],
    ["tokenizer.ggml.eos_token_id", kv.u32(eot)],
    ["tokenizer.ggml.add_bos_token", kv.bool(false)],
    ["tokenizer.ggml.add_eos_token", kv.bool(false)],
  ];
}

/** Is this GGUF tokenizer troupe's byte vocabulary (so ids are bytes)? */
export function isByteVocab(tokens: readonly unknown[] | undefined, merges: readonly unknown[] | undefined): boolean {
  if (!tokens || tokens.length !== 256 || (merges && merges.length > 0)) return false;
  const want = byteToUnicode();
  return tokens.every((t, i) => t === want[i]);
}
