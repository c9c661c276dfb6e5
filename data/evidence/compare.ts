// A score measured against references on the same held-out items: the evidence a gate on a
// gain rests on. Every input is a per-item 0/1 vector in the same item order — the model under
// test, the named baseline (the base model, entropy-only routing, …) and the trivial ones
// (trivial.ts). The gain is measured against the best reference, with a Wilson interval for
// every accuracy and a paired bootstrap interval for the gain. The result is plain JSON (no
// per-item vectors), small enough for a run record and `troupe run --json`.
import { DataConfigError } from "../errors.js";
import { type Interval, pairedBootstrap, wilson } from "./intervals.js";

export const REFERENCE_KINDS = ["named", "trivial"] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export interface Reference {
  readonly name: string;
  readonly kind: ReferenceKind;
  /** 1 where the reference is right, per item. */
  readonly hits: ArrayLike<number>;
  /** e.g. `always "1"` or the base checkpoint's name. */
  readonly detail?: string;
}

export interface MeasuredAccuracy {
  readonly name: string;
  readonly value: number;
  /** Items right (a 0/1 measure); absent for a mean of continuous values (means.ts). */
  readonly correct?: number;
  readonly ci: Interval;
}

export interface MeasuredReference extends MeasuredAccuracy {
  readonly kind: ReferenceKind;
  readonly detail?: string;
}

export interface Evidence {
  /** What is counted per item, e.g. "held-out exact match". */
  readonly measure: string;
  /**
   * Which way is better (absent: higher, an accuracy). For "lower" (a mean KL) the gain is
   * the best reference's value − the score's, so a positive gain is always an improvement.
   */
  readonly direction?: "higher" | "lower";
  /** Items scored. */
  readonly n: number;
  /** Confidence level of every interval. */
  readonly level: number;
  readonly score: MeasuredAccuracy;
  readonly references: readonly MeasuredReference[];
  /** The reference the gain is measured against: the best one (a trivial one wins a tie). */
  readonly against: string;
  /** score − best reference. */
  readonly gain: number;
  /** Paired bootstrap interval of the gain. */
  readonly gain_ci: Interval;
  readonly method: string;
}

export interface CompareOptions {
  readonly measure: string;
  readonly score: { readonly name: string; readonly hits: ArrayLike<number> };
  readonly references: readonly Reference[];
  readonly level?: number;
  readonly resamples?: number;
  readonly seed?: number;
}

function count(hits: ArrayLike<number>, key: string): number {
  let k = 0;
  for (let i = 0; i < hits.length; i++) {
    const h = hits[i];
    if (h !== 0 && h !== 1) throw new DataConfigError(key, `expected 0 or 1 per item, got ${String(h)} at item ${i}`);
    k += h;
  }
  return k;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function measured(name: string, hits: ArrayLike<number>, level: number, key: string): MeasuredAccuracy {
  const k = count(hits, key);
  const [lo, hi] = wilson(k, hits.length, level);
  return { name, value: k / hits.length, correct: k, ci: [round(lo), round(hi)] };
}

/** Measures `score` against every reference and the best of them. Throws DataConfigError on bad input. */
export function compareAgainstReferences(o: CompareOptions): Evidence {
  const n = o.score.hits.length;
  if (n < 1) throw new DataConfigError("score.hits", "no items were scored");
  if (o.references.length === 0) throw new DataConfigError("references", "a gain needs at least one reference");
  const level = o.level ?? 0.95;
  const resamples = o.resamples ?? 2000;
  const score = measured(o.score.name, o.score.hits, level, "score.hits");
  const refs = o.references.map((r, i) => {
    if (r.hits.length !== n) throw new DataConfigError(`references[${i}].hits`, `${r.name} has ${r.hits.length} items, the score has ${n}: both must be scored on the same items`);
    const m = measured(r.name, r.hits, level, `references[${i}].hits`);
    return { ...m, kind: r.kind, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
  });
  let best = 0;
  refs.forEach((r, i) => {
    const b = refs[best]!;
    if (r.value > b.value || (r.value === b.value && r.kind === "trivial" && b.kind !== "trivial")) best = i;
  });
  const ref = o.references[best]!;
  const [lo, hi] = pairedBootstrap(o.score.hits, ref.hits, { level, resamples, seed: o.seed ?? 0 });
  return {
    measure: o.measure,
    n,
    level,
    score,
    references: refs,
    against: refs[best]!.name,
    gain: score.value - refs[best]!.value,
    gain_ci: [round(lo), round(hi)],
    method: `Wilson score intervals; paired percentile bootstrap of the gain over items (${resamples} resamples)`,
  };
}

/** "0.42 [0.29, 0.56]" */
export function formatAccuracy(m: { value: number; ci: Interval }): string {
  const f = (x: number) => x.toFixed(2);
  return `${f(m.value)} [${f(m.ci[0])}, ${f(m.ci[1])}]`;
}
