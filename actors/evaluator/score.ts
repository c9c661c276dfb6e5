// Scoring a model on held-out prompt/response items: exact match of its greedy answers (the
// models layer's evaluateExactMatch: chat template, stop at the end marker, the data layer's
// normalisation) and the masked cross-entropy of the expected responses, overall and per
// domain.
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
  };
}
