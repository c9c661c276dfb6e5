// Chat templates from tokenizer_config.json (the Jinja `chat_template` a Hugging Face model
// ships), rendered with @huggingface/jinja — the renderer transformers.js uses. One exchange
// is rendered twice: the user turn with add_generation_prompt (the prompt part, as generation
// feeds it) and the user + assistant turns; the response part is what the second adds to the
// first. The two parts are tokenized apart (see template.ts on the boundary), the response
// ids end at the tokenizer's eot (the template writes eos_token after the answer) and eot is
// appended when the template does not write it. The loss is on the response part.
import { Template } from "@huggingface/jinja";
import { TokenizerError } from "../errors.js";
import { type ChatTemplate, type EncodedExample, chatTemplate, decodeUntilEot, joinParts, splitDiffers } from "../template.js";
import type { Tokenizer } from "../tokenizer.js";

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

class HfChatTemplate implements ChatTemplate {
  readonly kind = "hf" as const;
  private readonly template: Template;

  constructor(readonly tokenizer: Tokenizer, private readonly source: string) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new TokenizerError(`tokenizer_config.json chat_template does not parse: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The template applied to `messages` (what transformers' apply_chat_template(tokenize=False) returns). */
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    const s = this.tokenizer.settings;
    try {
      return this.template.render({
        messages: messages.map((m) => ({ ...m })), add_generation_prompt: addGenerationPrompt,
        bos_token: s.bosToken ?? "", eos_token: s.eosToken ?? "",
      });
    } catch (err) {
      throw new TokenizerError(`chat_template failed to render: ${(err as Error).message}`, { cause: err });
    }
  }

  renderPrompt(prompt: string): string {
    return this.render([{ role: "user", content: prompt }], true);
  }

  encodePrompt(prompt: string): Int32Array {
    return this.tokenizer.encode(this.renderPrompt(prompt));
  }

  /** The text the assistant turn adds after the prompt part. */
  responseText(prompt: string, response: string): string {
    const head = this.renderPrompt(prompt);
    const full = this.render([{ role: "user", content: prompt }, { role: "assistant", content: response }], false);
    if (!full.startsWith(head)) {
      throw new TokenizerError(`chat_template renders the conversation so that it does not start with the prompt part (${JSON.stringify(head.slice(-40))} vs ${JSON.stringify(full.slice(0, head.length).slice(-40))}); troupe needs the prompt part to be a prefix to mask it`);
    }
    return full.slice(head.length);
  }

  encodeExample(prompt: string, response: string): EncodedExample {
    return joinParts(this.tokenizer, this.encodePrompt(prompt), this.responseText(prompt, response), true);
  }

  decodeResponse(ids: ArrayLike<number>): string {
    return decodeUntilEot(this.tokenizer, ids);
  }

  containsEot(text: string): boolean {
    return this.tokenizer.encode(text).includes(this.tokenizer.eot);
  }

  straddles(prompt: string, response: string): boolean {
    return splitDiffers(this.tokenizer, this.renderPrompt(prompt), this.responseText(prompt, response));
  }
}

/** The chat template of a tokenizer_config.json chat_template (Jinja). */
export function hfChatTemplate(tokenizer: Tokenizer, source = tokenizer.settings.chatTemplate): ChatTemplate & { render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string } {
  if (!source) throw new TokenizerError("this tokenizer has no chat_template (tokenizer_config.json)");
  return new HfChatTemplate(tokenizer, source);
}

/** The template a tokenizer comes with: its chat_template when it has one, else the plain Q:/A: one. */
export function templateFor(tokenizer: Tokenizer): ChatTemplate {
  return tokenizer.settings.chatTemplate ? hfChatTemplate(tokenizer) : chatTemplate({ tokenizer });
}
