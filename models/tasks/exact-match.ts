// Held-out exact match: greedy decoding of each prompt (the chat template of the model's
// tokenizer) up to its end token, scored by the data layer's normalization (trim, compare exactly).
import type { CausalLM } from "../arch/mod.js";
import { type ScoreSummary, createScoreboard, templateFor } from "../../data/mod.js";
import { greedyBatch } from "../generate.js";
import { tokenizerOf } from "../spec.js";

export interface ExactMatchItem {
  readonly prompt: string;
  readonly response: string;
  readonly domain?: string;
  readonly difficulty?: string | null;
}

export interface ExactMatchResult extends ScoreSummary {
  /** overall.accuracy */
  readonly accuracy: number;
  /** The first few mistakes, for a look. */
  readonly examples: { prompt: string; expected: string; got: string }[];
  /** 1 where the answer to item i was right, in the items' order (for paired comparisons). */
  readonly hits: Uint8Array;
}

export interface ExactMatchOptions {
  /** New tokens at most per answer (default: the longest expected answer + 8). */
  readonly maxTokens?: number;
  readonly batch?: number;
}

export function evaluateExactMatch(model: CausalLM, items: readonly ExactMatchItem[], options: ExactMatchOptions = {}): ExactMatchResult {
  const tok = tokenizerOf(model);
  const template = templateFor(tok);
  const longest = items.reduce((m, it) => Math.max(m, tok.encode(it.response).length), 0);
  const maxTokens = options.maxTokens ?? longest + 8;
  const prompts = items.map((it) => template.encodePrompt(it.prompt));
  const outs = greedyBatch(model, prompts, { maxTokens, stopToken: tok.eot, batch: options.batch ?? 64 });
  const board = createScoreboard();
  const examples: ExactMatchResult["examples"] = [];
  const hits = new Uint8Array(items.length);
  items.forEach((it, i) => {
    const got = template.decodeResponse(outs[i]!);
    const ok = board.add({ domain: it.domain ?? "unspecified", difficulty: it.difficulty ?? null }, got, it.response);
    hits[i] = ok ? 1 : 0;
    if (!ok && examples.length < 5) examples.push({ prompt: it.prompt, expected: it.response, got: template.decodeResponse(outs[i]!) });
  });
  const s = board.summary();
  return { ...s, accuracy: s.overall.accuracy, examples, hits };
}
