// Gate evidence from the evaluator's scores: a score's per-item hits (the "0"/"1" string the
// evaluator returns, in the lane's order) measured against the named baseline and the trivial
// ones (constant answer, majority per domain, the training lane's majority class) on the same
// held-out items, through data/evidence. Any stage whose gate is a gain in exact match uses it.
import { type Evidence, type LaneItem, type Reference, compareAgainstReferences, trivialBaselines } from "../../../data/mod.js";
import { StageRecordError } from "../errors.js";
import type { Score } from "../messages.js";

/** The per-item hits of a score, checked against the lane it was scored on. */
export function hitsOf(score: Score, items: readonly unknown[], what: string): Uint8Array {
  const h = score.hits;
  if (h === undefined) {
    throw new StageRecordError(`${what}: the evaluator's score has no per-item results (scored by an older evaluator); start a new run`);
  }
  if (h.length !== items.length || score.n !== items.length) {
    throw new StageRecordError(`${what}: the score covers ${h.length} items (n ${score.n}), the lane has ${items.length}; it was scored on other items`);
  }
  const out = new Uint8Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i) - 48;
    if (c !== 0 && c !== 1) throw new StageRecordError(`${what}: per-item results must be "0" or "1", got ${JSON.stringify(h[i])} at item ${i}`);
    out[i] = c;
  }
  return out;
}

export interface ExactMatchComparison {
  readonly measure: string;
  /** The model under test. */
  readonly score: { readonly name: string; readonly hits: Uint8Array };
  /** The named baseline (the base model), if the stage has one. */
  readonly named?: Reference;
  readonly heldOut: readonly LaneItem[];
  /** Training items, for the majority-class baseline. */
  readonly train?: readonly LaneItem[];
}

/** The score against the named baseline and every trivial one; the gain is over the best. */
export function exactMatchEvidence(o: ExactMatchComparison): Evidence {
  const trivial = trivialBaselines(o.heldOut, o.train).map(
    (t): Reference => ({ name: t.name, kind: "trivial", hits: t.hits, detail: t.describe }),
  );
  return compareAgainstReferences({
    measure: o.measure,
    score: o.score,
    references: [...(o.named ? [o.named] : []), ...trivial],
  });
}
