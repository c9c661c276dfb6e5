// The chat template: how a prompt/response pair becomes one token sequence. The plain one:
//
//   "Q: " + prompt + "\nA: " + response + eot
//   └──────── prompt part ────────┘ └─ response part ─┘
//
// (a tokenizer_config.json chat template is the other kind: tokenizers/chat.ts).
// Loss is taken on the response part only (response tokens plus the end token, so the model
// learns to stop). Generation feeds the prompt part and stops at the tokenizer's `eot`
// (0x03 for bytes, e.g. <|endoftext|> for a BPE) or at a length limit.
//
// The prompt/response boundary is always a token boundary: the prompt part and the response
// are tokenized separately and concatenated. With a BPE, tokenizing the joined text could make
// a token straddle the boundary (GPT-2's regex joins "A: " + "19" into "A:" + " 19"); we do not
// let it, so the prompt ids in training are exactly the ids generation feeds, and every target
// is either wholly prompt (masked) or wholly response (trained on). `straddles()` tells when
// the joined text would have tokenized differently.
import type { Tokenizer } from "./tokenizer.js";

export const DEFAULT_USER_PREFIX = "Q: ";
export const DEFAULT_ASSISTANT_PREFIX = "\nA: ";

/** One rendered example: ids = prompt part ++ response part; targets start at `promptLen`. */
export interface EncodedExample {
  readonly ids: Int32Array;
  /** Number of tokens in the prompt part (template included). */
  readonly promptLen: number;
}

export interface ChatTemplate {
  /** "plain" (Q:/A:) or "hf" (the Jinja template of tokenizer_config.json). */
  readonly kind: "plain" | "hf";
  readonly tokenizer: Tokenizer;
  /** The text of the prompt part, as fed to generation. */
  renderPrompt(prompt: string): string;
  /** Prompt part ids, for generation. */
  encodePrompt(prompt: string): Int32Array;
  /** Prompt part ++ response ++ eot. */
  encodeExample(prompt: string, response: string): EncodedExample;
  /** Decodes generated ids, stopping before the first eot. */
  decodeResponse(ids: ArrayLike<number>): string;
  /** True when `text` encodes to something containing `eot` (it would end generation early). */
  containsEot(text: string): boolean;
  /** True when tokenizing prompt part + response as one text would put a token across the boundary. */
  straddles(prompt: string, response: string): boolean;
}

/**
 * Prompt part ids ++ response ids ++ eot, with promptLen = the prompt part's length. With
 * `untilEot` the response ids end at their first eot (a chat template that writes the end
 * token and then a newline); otherwise they are kept whole and eot is appended.
 */
export function joinParts(tokenizer: Tokenizer, head: Int32Array, responseText: string, untilEot = false): EncodedExample {
  const tail = tokenizer.encode(responseText);
  const cut = untilEot ? tail.indexOf(tokenizer.eot) : -1;
  const body = cut >= 0 ? tail.subarray(0, cut) : tail;
  const ids = new Int32Array(head.length + body.length + 1);
  ids.set(head, 0);
  ids.set(body, head.length);
  ids[ids.length - 1] = tokenizer.eot;
  return { ids, promptLen: head.length };
}

/** Ids before the first eot, decoded (special tokens left out). */
export function decodeUntilEot(tokenizer: Tokenizer, ids: ArrayLike<number>): string {
  let end = ids.length;
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === tokenizer.eot) {
      end = i;
      break;
    }
  }
  return tokenizer.decode(Array.prototype.slice.call(ids, 0, end) as number[], { skipSpecialTokens: true });
}

/** Whether encoding head + tail as one text differs from encoding them apart and concatenating. */
export function splitDiffers(tokenizer: Tokenizer, head: string, tail: string): boolean {
  const apart = [...tokenizer.encode(head), ...tokenizer.encode(tail)];
  const joined = tokenizer.encode(head + tail);
  return apart.length !== joined.length || apart.some((v, i) => v !== joined[i]);
}

export interface ChatTemplateOptions {
  tokenizer: Tokenizer;
  userPrefix?: string;
  assistantPrefix?: string;
}

class PlainTemplate implements ChatTemplate {
  readonly kind = "plain" as const;
  readonly tokenizer: Tokenizer;
  readonly userPrefix: string;
  readonly assistantPrefix: string;

  constructor(opts: ChatTemplateOptions) {
    this.tokenizer = opts.tokenizer;
    this.userPrefix = opts.userPrefix ?? DEFAULT_USER_PREFIX;
    this.assistantPrefix = opts.assistantPrefix ?? DEFAULT_ASSISTANT_PREFIX;
  }

  renderPrompt(prompt: string): string {
    return this.userPrefix + prompt + this.assistantPrefix;
  }

  encodePrompt(prompt: string): Int32Array {
    return this.tokenizer.encode(this.renderPrompt(prompt));
  }

  encodeExample(prompt: string, response: string): EncodedExample {
    // a response containing eot is refused earlier (lanes: "contains end marker")
    return joinParts(this.tokenizer, this.encodePrompt(prompt), response);
  }

  decodeResponse(ids: ArrayLike<number>): string {
    return decodeUntilEot(this.tokenizer, ids);
  }

  containsEot(text: string): boolean {
    return this.tokenizer.encode(text).includes(this.tokenizer.eot);
  }

  straddles(prompt: string, response: string): boolean {
    return splitDiffers(this.tokenizer, this.renderPrompt(prompt), response);
  }
}

/** The plain ASCII chat template ("Q: …\nA: …" + end marker). */
export function chatTemplate(opts: ChatTemplateOptions): ChatTemplate {
  return new PlainTemplate(opts);
}
