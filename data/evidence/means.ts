// Evidence for gates whose per-item measure is not right/wrong: a mean of continuous values
// (KL in nats per token, layers per token) of the model under test against its named and
// trivial references on the same items, in either direction. The result is the same Evidence
// as compareAgainstReferences gives (compare.ts), with `direction` set: the gain is always
// "how much better than the best reference" (for lower-is-better: best − score), with a
// paired bootstrap interval; each mean gets a bootstrap interval (Wilson is for proportions).
// bootstrapStat is the general tool: the percentile interval of any statistic of resampled
// items, e.g. a ratio of sums (quality per compute) after vs before on the same prompts.
import { DataConfigError } from "../errors.js";
import { createRng } from "../rng.js";
import type { Evidence, ReferenceKind } from "./compare.js";
import { type Interval, pairedBootstrap, zFor } from "./intervals.js";

export interface ValuedReference {
  readonly name: string;
  readonly kind: ReferenceKind;
  /** The reference's value per item, in the score's item order. */
  readonly values: ArrayLike<number>;
  readonly detail?: string;
}

export interface MeanComparisonOptions {
  readonly measure: string;
  readonly direction: "higher" | "lower";
  readonly score: { readonly name: string; readonly values: ArrayLike<number> };
  readonly references: readonly ValuedReference[];
  readonly level?: number;
  readonly resamples?: number;
  readonly seed?: number;
}

export interface StatOptions {
  readonly level?: number;
  /** Resamples (default 2000). */
  readonly resamples?: number;
  readonly seed?: number;
}

/**
 * Percentile-bootstrap interval of `stat` over `n` items: each resample draws n item indices
 * with replacement and hands them to `stat`. Seeded, so the same inputs give the same interval.
 */
export function bootstrapStat(n: number, stat: (idx: Int32Array) => number, o: StatOptions = {}): Interval {
  if (!Number.isInteger(n) || n < 1) throw new DataConfigError("n", `a bootstrap needs at least one item, got ${n}`);
  const level = o.level ?? 0.95;
  zFor(level); // validates
  const resamples = o.resamples ?? 2000;
  if (!Number.isInteger(resamples) || resamples < 10) throw new DataConfigError("resamples", `expected an integer >= 10, got ${resamples}`);
  const rng = createRng(o.seed ?? 0);
  const values = new Float64Array(resamples);
  const idx = new Int32Array(n);
  let finite = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const v = stat(idx);
    if (Number.isFinite(v)) values[finite++] = v;
  }
  if (finite === 0) return [Number.NaN, Number.NaN];
  const sorted = values.subarray(0, finite).sort();
  const at = (q: number) => sorted[Math.min(finite - 1, Math.max(0, Math.round(q * (finite - 1))))]!;
  const tail = (1 - level) / 2;
  return [at(tail), at(1 - tail)];
}

function checked(values: ArrayLike<number>, n: number, key: string, name: string): ArrayLike<number> {
  if (values.length !== n) throw new DataConfigError(key, `${name} has ${values.length} items, the score has ${n}: both must be measured on the same items`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new DataConfigError(key, `${name} has a non-finite value (${String(values[i])}) at item ${i}`);
  }
  return values;
}

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s / v.length;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** The score's mean against every reference's on the same items; the gain is over the best. */
export function compareMeans(o: MeanComparisonOptions): Evidence {
  const n = o.score.values.length;
  if (n < 1) throw new DataConfigError("score.values", "no items were measured");
  if (o.references.length === 0) throw new DataConfigError("references", "a gain needs at least one reference");
  if (o.direction !== "higher" && o.direction !== "lower") throw new DataConfigError("direction", `expected "higher" or "lower", got ${JSON.stringify(o.direction)}`);
  const level = o.level ?? 0.95;
  const resamples = o.resamples ?? 2000;
  const seed = o.seed ?? 0;
  const interval = (v: ArrayLike<number>) => {
    const [lo, hi] = bootstrapStat(n, (idx) => { let s = 0; for (const i of idx) s += v[i]!; return s / n; }, { level, resamples, seed });
    return [round(lo), round(hi)] as Interval;
  };
  const sv = checked(o.score.values, n, "score.values", o.score.name);
  const score = { name: o.score.name, value: mean(sv), ci: interval(sv) };
  const refs = o.references.map((r, i) => {
    const v = checked(r.values, n, `references[${i}].values`, r.name);
    return { name: r.name, kind: r.kind, value: mean(v), ci: interval(v), ...(r.detail !== undefined ? { detail: r.detail } : {}) };
  });
  const better = (a: number, b: number) => (o.direction === "higher" ? a > b : a < b);
  let best = 0;
  refs.forEach((r, i) => {
    const b = refs[best]!;
    if (better(r.value, b.value) || (r.value === b.value && r.kind === "trivial" && b.kind !== "trivial")) best = i;
  });
  const bestValues = o.references[best]!.values;
  // the gain is "better by": score − best when higher is better, best − score when lower is
  const [lo, hi] = o.direction === "higher"
    ? pairedBootstrap(sv, bestValues, { level, resamples, seed })
    : pairedBootstrap(bestValues, sv, { level, resamples, seed });
  const gain = o.direction === "higher" ? score.value - refs[best]!.value : refs[best]!.value - score.value;
  return {
    measure: o.measure,
    direction: o.direction,
    n,
    level,
    score,
    references: refs,
    against: refs[best]!.name,
    gain,
    gain_ci: [round(lo), round(hi)],
    method: `bootstrap percentile intervals of each mean; paired percentile bootstrap of the gain over items (${resamples} resamples)`,
  };
}
