// A bounded, deterministic record of one loss curve. Every point is kept up to `maxPoints`;
// past that the curve is cut into aligned buckets of `width` consecutive reports and each
// bucket keeps only its lowest and highest point, plus the very first and latest point of
// the curve. When the buckets outgrow their budget the width doubles and neighbours merge,
// so memory stays O(maxPoints) for any run length, the picture keeps every spike and dip,
// and the same reports always give the same points. Non-finite values are counted, not kept.
//
// The state is plain JSON so a recorder can be persisted and resumed mid-run.

export interface SeriesPoint {
  readonly step: number;
  readonly value: number;
}

/** One loss term of one attempt, as the report stores it. */
export interface TermSeries {
  /** Points in reporting order; downsampled (min/max per bucket) past the recorder's limit. */
  readonly points: readonly SeriesPoint[];
  /** Finite values reported (points.length < reported once downsampled). */
  readonly reported: number;
  /** NaN / ±Infinity values reported and dropped. */
  readonly non_finite: number;
  readonly first_non_finite_step: number | null;
  /** Reports at or before the latest kept step (a trainer resumed from a checkpoint repeats steps); skipped. */
  readonly replayed: number;
}

/** A point with its index among the finite reports, which fixes the bucket it falls in. */
interface IndexedPoint {
  readonly i: number;
  readonly step: number;
  readonly value: number;
}

interface Bucket {
  /** Bucket index: reports k*width .. (k+1)*width-1. */
  readonly k: number;
  readonly lo: IndexedPoint;
  readonly hi: IndexedPoint;
}

export interface SeriesState {
  /** Finite reports so far. */
  n: number;
  /** Reports per bucket; 0 while every point is kept in `raw`. */
  width: number;
  raw: IndexedPoint[];
  buckets: Bucket[];
  first: IndexedPoint | null;
  last: IndexedPoint | null;
  nonFinite: number;
  firstNonFiniteStep: number | null;
  replayed: number;
}

export const MIN_POINTS = 8;

export function emptySeries(): SeriesState {
  return { n: 0, width: 0, raw: [], buckets: [], first: null, last: null, nonFinite: 0, firstNonFiniteStep: null, replayed: 0 };
}

/** Most buckets a series may hold so that first + last + two per bucket stays within maxPoints. */
const bucketBudget = (maxPoints: number): number => Math.floor((maxPoints - 2) / 2);

const lower = (a: IndexedPoint, b: IndexedPoint): IndexedPoint => (b.value < a.value ? b : a);
const higher = (a: IndexedPoint, b: IndexedPoint): IndexedPoint => (b.value > a.value ? b : a);

function merge(buckets: readonly Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  for (const b of buckets) {
    const k = Math.floor(b.k / 2);
    const prev = out[out.length - 1];
    if (prev && prev.k === k) {
      // Ties keep the earlier point (prev covers earlier reports), so the result is deterministic.
      out[out.length - 1] = { k, lo: lower(prev.lo, b.lo), hi: higher(prev.hi, b.hi) };
    } else {
      out.push({ k, lo: b.lo, hi: b.hi });
    }
  }
  return out;
}

function compact(s: SeriesState, maxPoints: number): void {
  const budget = bucketBudget(maxPoints);
  while (s.buckets.length > budget) {
    s.width *= 2;
    s.buckets = merge(s.buckets);
  }
}

/**
 * Adds one report. A report whose step is not after the latest kept one is skipped and
 * counted as replayed: a trainer resumed from its checkpoint repeats the steps since then, and
 * an observer re-reading a resumed director sends its last progress again. The curve stays a
 * function of the step. Returns false when the report was skipped.
 */
export function addPoint(s: SeriesState, step: number, value: number, maxPoints: number): boolean {
  if (s.last && step <= s.last.step) {
    if (step < s.last.step || value !== s.last.value) s.replayed += 1;
    return false;
  }
  if (!Number.isFinite(value)) {
    s.nonFinite += 1;
    if (s.firstNonFiniteStep === null) s.firstNonFiniteStep = step;
    return true;
  }
  const p: IndexedPoint = { i: s.n, step, value };
  s.n += 1;
  s.first ??= p;
  s.last = p;
  if (s.width === 0) {
    s.raw.push(p);
    if (s.raw.length <= maxPoints) return true;
    s.width = 1;
    s.buckets = s.raw.map((q) => ({ k: q.i, lo: q, hi: q }));
    s.raw = [];
    compact(s, maxPoints);
    return true;
  }
  const k = Math.floor(p.i / s.width);
  const b = s.buckets[s.buckets.length - 1];
  if (b && b.k === k) {
    s.buckets[s.buckets.length - 1] = { k, lo: lower(b.lo, p), hi: higher(b.hi, p) };
  } else {
    s.buckets.push({ k, lo: p, hi: p });
    compact(s, maxPoints);
  }
  return true;
}

/** The kept points in reporting order. */
export function seriesPoints(s: SeriesState): SeriesPoint[] {
  if (s.width === 0) return s.raw.map(({ step, value }) => ({ step, value }));
  const byIndex = new Map<number, IndexedPoint>();
  for (const p of [s.first, ...s.buckets.flatMap((b) => [b.lo, b.hi]), s.last]) if (p) byIndex.set(p.i, p);
  return [...byIndex.values()].sort((a, b) => a.i - b.i).map(({ step, value }) => ({ step, value }));
}

export function termSeries(s: SeriesState): TermSeries {
  return {
    points: seriesPoints(s),
    reported: s.n,
    non_finite: s.nonFinite,
    first_non_finite_step: s.firstNonFiniteStep,
    replayed: s.replayed,
  };
}

/** Checks a restored state enough that adding to it cannot crash; null if it is not one. */
export function restoreSeries(x: unknown): SeriesState | null {
  if (!x || typeof x !== "object") return null;
  const s = x as SeriesState;
  const ok =
    Number.isInteger(s.n) &&
    Number.isInteger(s.width) &&
    Array.isArray(s.raw) &&
    Array.isArray(s.buckets) &&
    Number.isInteger(s.nonFinite);
  if (!ok) return null;
  return structuredClone({
    ...s,
    first: s.first ?? null,
    last: s.last ?? null,
    firstNonFiniteStep: s.firstNonFiniteStep ?? null,
    replayed: Number.isInteger(s.replayed) ? s.replayed : 0,
  });
}
