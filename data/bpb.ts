// Bits per byte: a validation loss that compares across tokenizers. A mean cross-entropy in
// nats per token depends on how much text a token holds; spread over the UTF-8 bytes the
// targets stand for it does not:
//   bpb = (nats per token × target tokens) / target bytes / ln 2
// Target bytes come from the tokenizer (tokenBytes): 1 per byte token, a BPE token's byte
// length, 1 for a special token such as an end marker (the byte tokenizer's 0x03 is 1 byte too).
import type { TokenBatch } from "./batch.js";
import type { Tokenizer } from "./tokenizer.js";
import { IGNORE_INDEX } from "../kernels/constants.js";

/** Targets (not IGNORE_INDEX) and the UTF-8 bytes they stand for, over all batches. */
export function targetBytes(batches: readonly TokenBatch[], tokenizer: Tokenizer): { tokens: number; bytes: number } {
  let tokens = 0;
  let bytes = 0;
  for (const b of batches) {
    for (let i = 0; i < b.targets.length; i++) {
      const t = b.targets[i]!;
      if (t === IGNORE_INDEX) continue;
      tokens++;
      bytes += tokenizer.tokenBytes(t);
    }
  }
  return { tokens, bytes };
}

/** Mean nats per target token over `batches` → bits per byte of the text those targets are. */
export function bitsPerByte(meanNats: number, batches: readonly TokenBatch[], tokenizer: Tokenizer): number {
  const { tokens, bytes } = targetBytes(batches, tokenizer);
  return bytes === 0 ? NaN : (meanNats * tokens) / bytes / Math.LN2;
}
