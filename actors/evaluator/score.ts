// Scoring a model on held-out prompt/response items: exact match of its greedy answers (the
// models layer's evaluateExactMatch: chat template, stop at the end marker, the data layer's
// normalisation) and the masked cross-entropy of the expected responses, overall and per
// domain and by answer length, and which items it got right (for the gates' paired
// comparisons).
import { END_BYTE, type LaneItem, sftEvalBatches } from "../../data/mod.js";
import { type CausalLM, evalLoss, evaluateExactMatch } from "../../models/mod.js";
import type { Score } from "../cast/mod.js";

export function scoreModel(model: CausalLM, items: readonly LaneItem[]): Score {
  const em = evaluateExactMatch(model, items);
  const block = model.dims.maxPositions;
  const lossOf = (xs: readonly LaneItem[]) => evalLoss(model, sftEvalBatches(xs, { batch: 64, block, pad: END_BYTE }));
  const byDomain: Score["byDomain"] = {};
  for (const d of [...new Set(items.map((i) => i.domain))].sort()) {
    const mine = items.filter((i) => i.domain === d);
    byDomain[d] = { n: mine.length, exactMatch: em.byDomain[d]?.accuracy ?? 0, loss: lossOf(mine) };
  }
  return {
    n: items.length,
    exactMatch: em.accuracy,
    loss: lossOf(items),
    byDomain,
    examples: em.examples.slice(0, 5),
    ...perItem(items, em.hits),
  };
}

/** Which items were right (for the gates' paired comparisons) and exact match by answer length. */
export function perItem(items: readonly LaneItem[], hits: ArrayLike<number>): Pick<Score, "hits" | "byLength"> {
  const lengths = new Map<number, { n: number; right: number }>();
  items.forEach((it, i) => {
    const len = [...it.response.trim()].length;
    const c = lengths.get(len) ?? { n: 0, right: 0 };
    c.n++;
    c.right += hits[i]! ? 1 : 0;
    lengths.set(len, c);
  });
  const byLength: NonNullable<Score["byLength"]> = {};
  for (const [len, c] of [...lengths].sort((a, b) => a[0] - b[0])) byLength[String(len)] = { n: c.n, exactMatch: c.right / c.n };
  return { hits: Array.from(hits, (h) => (h ? "1" : "0")).join(""), byLength };
}
