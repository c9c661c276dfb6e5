// Evaluation only (troupe eval): a trained model scored on data without training it. Text: mean
// cross-entropy over every block-sized window of the chosen split, and bits per byte (which
// compares across tokenizers). Prompt/response data: the masked loss over the responses, bits
// per byte of the response bytes, and greedy exact match per domain.
import type { CausalLM } from "../arch/mod.js";
import { type LaneItem, type TextCorpus, bitsPerByte, evalWindows, sftEvalBatches } from "../../data/mod.js";
import { ModelConfigError } from "../errors.js";
import { evalLoss } from "../training/mod.js";
import { tokenizerOf } from "../spec.js";
import { evaluateExactMatch } from "./exact-match.js";

export interface TextEvalResult {
  readonly loss: number;
  readonly bpb: number;
  readonly tokens: number;
  readonly windows: number;
}

/** `split`: the corpus's validation split (as training held it out), its training split, or all of it. */
export function evaluateText(model: CausalLM, corpus: TextCorpus, o: { split?: "val" | "train" | "all"; batch?: number } = {}): TextEvalResult {
  const stream = o.split === "train" ? corpus.train : o.split === "all" ? corpus.tokens : corpus.val;
  const block = model.dims.maxPositions;
  if (stream.length < 2) throw new ModelConfigError("data", `the ${o.split ?? "val"} split holds ${stream.length} tokens; it needs at least 2`);
  const batches = evalWindows(stream, { batch: o.batch ?? 16, block: Math.min(block, stream.length - 1) });
  const loss = evalLoss(model, batches);
  return { loss, bpb: bitsPerByte(loss, batches, corpus.tokenizer), tokens: stream.length, windows: batches.reduce((a, b) => a + b.B, 0) };
}

export interface SftEvalResult {
  readonly loss: number;
  readonly bpb: number;
  readonly exactMatch: number;
  readonly n: number;
  readonly byDomain: Record<string, { exact_match: number; n: number }>;
  readonly examples: { prompt: string; expected: string; got: string }[];
}

export function evaluateSft(model: CausalLM, items: readonly LaneItem[]): SftEvalResult {
  if (items.length === 0) throw new ModelConfigError("data", "no prompt/response examples to evaluate");
  const tok = tokenizerOf(model);
  const batches = sftEvalBatches(items, { batch: 64, block: model.dims.maxPositions, pad: tok.eot });
  const loss = evalLoss(model, batches);
  const em = evaluateExactMatch(model, items);
  return {
    loss, bpb: bitsPerByte(loss, batches, tok), exactMatch: em.accuracy, n: em.overall.n,
    byDomain: Object.fromEntries(Object.entries(em.byDomain).map(([d, t]) => [d, { exact_match: t.accuracy, n: t.n }])),
    examples: em.examples.slice(0, 3),
  };
}
