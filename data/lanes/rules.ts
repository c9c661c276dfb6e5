// The filter rules of each lane. A record is kept (rendered to tokens), filtered (not
// selected by the lane's config: domain, difficulty), or skipped (unusable for this lane:
// empty response, too long, no known label, …). Filtered records are counted by reason;
// skipped ones are counted and the first few reported with their line.
//
//   all lanes   prompt/response must not contain the end marker; selection filters (domain,
//               difficulty, response length)
//   sft         non-empty response; longer than maxTokens → skip or truncate (overflow)
//   routing     non-empty response; difficulty easy|hard present; ≤ maxTokens; balanced later
//   semantic    non-empty response; ≥ 1 label in the vocabulary (unknown labels are counted
//               and dropped); ≤ maxTokens
//   transfer    ≤ maxTokens; non-empty response only if requireResponse
import { isTokenizerError } from "../errors.js";
import type { Difficulty, PromptRecord } from "../records.js";
import { fitExample } from "../sft.js";
import type { ChatTemplate, EncodedExample } from "../template.js";
import type { LaneName, LanesConfig, LaneSelection } from "./config.js";

export interface LaneItem extends EncodedExample {
  readonly prompt: string;
  readonly response: string;
  readonly domain: string;
  readonly difficulty: Difficulty | null;
  /** 1-based source line / record number (0 when unknown). */
  readonly line: number;
  /** Semantic lane: multi-hot over the lane's vocabulary; null elsewhere. */
  readonly labels: Uint8Array | null;
}

export type Verdict =
  | { readonly kind: "keep"; readonly item: LaneItem; readonly truncated: boolean; readonly unknownLabels: string[] }
  | { readonly kind: "filter"; readonly reason: string }
  | { readonly kind: "skip"; readonly reason: string; readonly detail?: string };

function selected(sel: LaneSelection, r: PromptRecord): string | null {
  const { domain, difficulty } = r.metadata;
  if (sel.domains !== null && !sel.domains.includes(domain)) return "domain not selected";
  if (sel.exclude.includes(domain)) return "domain excluded";
  if (sel.difficulties !== null && (difficulty === undefined || !sel.difficulties.includes(difficulty))) {
    return "difficulty not selected";
  }
  const len = sel.responseLength;
  if (len !== null) {
    const n = [...r.response.trim()].length;
    if (n < len.min || (len.max !== null && n > len.max)) return "response length not selected";
  }
  return null;
}

function item(r: PromptRecord, ex: EncodedExample, labels: Uint8Array | null): LaneItem {
  return {
    ids: ex.ids,
    promptLen: ex.promptLen,
    prompt: r.prompt,
    response: r.response,
    domain: r.metadata.domain,
    difficulty: r.metadata.difficulty ?? null,
    line: r.line ?? 0,
    labels,
  };
}

/** Applies one lane's rules to one record. */
export function judge(lane: LaneName, config: LanesConfig, r: PromptRecord, template: ChatTemplate): Verdict {
  const sel = config[lane];
  const why = selected(sel, r);
  if (why !== null) return { kind: "filter", reason: why };
  try {
    if (template.containsEot(r.prompt) || template.containsEot(r.response)) return { kind: "skip", reason: "contains end marker" };
  } catch (err) {
    // a tokenizer that cannot encode a character (no unk token, no byte fallback) refuses it
    if (isTokenizerError(err)) return { kind: "skip", reason: "cannot be tokenized", detail: err.message };
    throw err;
  }
  const needsResponse = lane !== "transfer" || config.transfer.requireResponse;
  if (needsResponse && r.response.trim() === "") return { kind: "skip", reason: "empty response" };
  if (lane === "routing" && r.metadata.difficulty === undefined) return { kind: "skip", reason: "missing difficulty" };

  let labels: Uint8Array | null = null;
  const unknownLabels: string[] = [];
  if (lane === "semantic") {
    const vocab = config.semantic.vocabulary;
    labels = new Uint8Array(vocab.length);
    let known = 0;
    for (const l of r.metadata.labels ?? []) {
      const i = vocab.indexOf(l);
      if (i < 0) unknownLabels.push(l);
      else if (labels[i] === 0) {
        labels[i] = 1;
        known++;
      }
    }
    if (known === 0) {
      const detail = r.metadata.labels?.length ? `labels ${JSON.stringify(r.metadata.labels)}` : "no metadata.labels";
      return { kind: "skip", reason: "no known label", detail };
    }
  }

  let ex: EncodedExample;
  try {
    ex = template.encodeExample(r.prompt, r.response);
  } catch (err) {
    if (isTokenizerError(err)) return { kind: "skip", reason: "cannot be tokenized", detail: err.message };
    throw err;
  }
  const fit = fitExample(ex, sel.maxTokens, lane === "sft" ? config.sft.overflow : "skip");
  if (!fit.ok) return { kind: "skip", reason: fit.reason, detail: fit.detail };
  return { kind: "keep", item: item(r, fit.item, labels), truncated: fit.truncated, unknownLabels };
}
