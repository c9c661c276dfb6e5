// Trivial baselines: what a model that ignores its input scores on the same held-out items.
// A gate on a gain (exact match, route accuracy, …) is measured against the best of these as
// well as against the named baseline (the base model, entropy-only routing), so an adapter
// that learned to say "1" to every counting question does not pass as having learned to count.
//
//   constant            the single answer right most often on the held-out items themselves —
//                       the best any constant answer can do there (an upper bound, so the
//                       comparison errs against the model)
//   majority_by_domain  the same per domain (the prompt names its task, so a lookup from task
//                       to answer is still trivial); only when the items have several domains
//   train_majority      the classic majority class: the most frequent training answer of each
//                       domain, applied to the held-out items (when training items are given)
//
// Answers are compared as the scorer compares them (normalizeAnswer: cut at the end marker,
// trim). Ties go to the answer that sorts first, so the result is deterministic.
import { DataConfigError } from "../errors.js";
import { normalizeAnswer } from "../pack/score.js";
import { DEFAULT_DOMAIN } from "../records.js";

export interface AnsweredItem {
  /** The expected answer. */
  readonly response: string;
  readonly domain?: string;
}

export const TRIVIAL_BASELINES = ["constant", "majority_by_domain", "train_majority"] as const;
export type TrivialBaselineName = (typeof TRIVIAL_BASELINES)[number];

export interface TrivialBaseline {
  readonly name: TrivialBaselineName;
  /** The answers it gives: by domain, or under "*" for every item. */
  readonly answers: Readonly<Record<string, string>>;
  /** One line for a report: `always "1"`, `per domain: brackets "no", counting "1"`. */
  readonly describe: string;
  /** 1 where its answer is right, per held-out item, in the items' order. */
  readonly hits: Uint8Array;
}

const domainOf = (i: AnsweredItem) => i.domain ?? DEFAULT_DOMAIN;

/** The most frequent normalized answer; ties to the one that sorts first. */
function mode(answers: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best: string | null = null;
  let n = 0;
  for (const [a, c] of counts) if (c > n || (c === n && best !== null && a < best)) [best, n] = [a, c];
  return best;
}

function byDomain(items: readonly AnsweredItem[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const i of items) m.set(domainOf(i), [...(m.get(domainOf(i)) ?? []), normalizeAnswer(i.response)]);
  return m;
}

function hitsOf(items: readonly AnsweredItem[], answerFor: (domain: string) => string | undefined): Uint8Array {
  return Uint8Array.from(items, (i) => {
    const a = answerFor(domainOf(i));
    return a !== undefined && a === normalizeAnswer(i.response) ? 1 : 0;
  });
}

function describeAnswers(answers: Record<string, string>): string {
  if ("*" in answers) return `always ${JSON.stringify(answers["*"])}`;
  return `per domain: ${Object.entries(answers).map(([d, a]) => `${d} ${JSON.stringify(a)}`).join(", ")}`;
}

function baseline(name: TrivialBaselineName, answers: Record<string, string>, items: readonly AnsweredItem[]): TrivialBaseline {
  const lookup = (d: string) => answers["*"] ?? answers[d];
  return { name, answers, describe: describeAnswers(answers), hits: hitsOf(items, lookup) };
}

/**
 * The trivial baselines of `heldOut` (see the head of this file). `train`, when given, adds the
 * majority class learned from it. Throws DataConfigError for an empty held-out set.
 */
export function trivialBaselines(heldOut: readonly AnsweredItem[], train?: readonly AnsweredItem[]): TrivialBaseline[] {
  if (heldOut.length === 0) throw new DataConfigError("heldOut", "a trivial baseline needs at least one held-out item");
  const out: TrivialBaseline[] = [];
  const all = mode(heldOut.map((i) => normalizeAnswer(i.response)))!;
  out.push(baseline("constant", { "*": all }, heldOut));
  const domains = byDomain(heldOut);
  if (domains.size > 1) {
    const answers: Record<string, string> = {};
    for (const d of [...domains.keys()].sort()) answers[d] = mode(domains.get(d)!)!;
    out.push(baseline("majority_by_domain", answers, heldOut));
  }
  if (train && train.length > 0) {
    const answers: Record<string, string> = {};
    const learned = byDomain(train);
    for (const d of [...learned.keys()].sort()) answers[d] = mode(learned.get(d)!)!;
    out.push(baseline("train_majority", answers, heldOut));
  }
  return out;
}
