// The chat template: how a prompt/response pair becomes one token sequence.
//
//   "Q: " + prompt + "\nA: " + response + "\x03"
//   └──────── prompt part ────────┘ └─ response part ─┘
//
// Loss is taken on the response part only (response bytes plus the end marker, so the model
// learns to stop). Generation feeds the prompt part and stops at the tokenizer's `eot`
// (0x03 for bytes) or at a length limit.
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
  readonly tokenizer: Tokenizer;
  readonly userPrefix: string;
  readonly assistantPrefix: string;
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
}

export interface ChatTemplateOptions {
  tokenizer: Tokenizer;
  userPrefix?: string;
  assistantPrefix?: string;
}

class PlainTemplate implements ChatTemplate {
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
    const head = this.encodePrompt(prompt);
    const tail = this.tokenizer.encode(response);
    const ids = new Int32Array(head.length + tail.length + 1);
    ids.set(head, 0);
    ids.set(tail, head.length);
    ids[ids.length - 1] = this.tokenizer.eot;
    return { ids, promptLen: head.length };
  }

  decodeResponse(ids: ArrayLike<number>): string {
    let end = ids.length;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === this.tokenizer.eot) {
        end = i;
        break;
      }
    }
    return this.tokenizer.decode(Array.prototype.slice.call(ids, 0, end) as number[]);
  }

  containsEot(text: string): boolean {
    return this.tokenizer.encode(text).includes(this.tokenizer.eot);
  }
}

/** The plain ASCII chat template ("Q: …\nA: …" + end marker). */
export function chatTemplate(opts: ChatTemplateOptions): ChatTemplate {
  return new PlainTemplate(opts);
}
