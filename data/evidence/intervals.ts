// Confidence intervals for accuracies measured on a finite held-out set.
//   wilson            the Wilson score interval of k successes in n trials (good at small n and
//                     near 0 or 1, where the normal approximation is not)
//   pairedBootstrap   the percentile bootstrap of mean(a − b) for two per-item 0/1 vectors
//                     scored on the same items (resampling items keeps the pairing, so a
//                     model and its baseline that fail on the same hard items are compared
//                     fairly); seeded, so the same inputs always give the same interval
import { DataConfigError } from "../errors.js";
import { createRng } from "../rng.js";

export type Interval = readonly [number, number];

/** Two-sided standard normal quantile for a confidence level, e.g. 0.95 → 1.95996. */
export function zFor(level: number): number {
  if (!(level > 0 && level < 1)) throw new DataConfigError("level", `expected a confidence level in (0, 1), got ${level}`);
  return inverseNormal(1 - (1 - level) / 2);
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Wilson score interval of k successes in n trials at `level` (default 95 %). */
export function wilson(k: number, n: number, level = 0.95): Interval {
  if (!Number.isInteger(n) || n < 1) throw new DataConfigError("n", `expected a positive number of trials, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new DataConfigError("k", `expected successes in [0, ${n}], got ${k}`);
  const z = zFor(level);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface BootstrapOptions {
  readonly level?: number;
  /** Resamples (default 2000). */
  readonly resamples?: number;
  readonly seed?: number;
}

/** Percentile-bootstrap interval of mean(a) − mean(b) over paired 0/1 (or any numeric) items. */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOptions = {}): Interval {
  const n = a.length;
  if (n < 1) throw new DataConfigError("a", "a bootstrap needs at least one item");
  if (b.length !== n) throw new DataConfigError("b", `has ${b.length} items, a has ${n}: both must be scored on the same items`);
  const level = o.level ?? 0.95;
  zFor(level); // validates
  const resamples = o.resamples ?? 2000;
  if (!Number.isInteger(resamples) || resamples < 10) throw new DataConfigError("resamples", `expected an integer >= 10, got ${resamples}`);
  const diff = Float64Array.from({ length: n }, (_, i) => a[i]! - b[i]!);
  const rng = createRng(o.seed ?? 0);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diff[rng.int(n)]!;
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  const tail = (1 - level) / 2;
  return [at(tail), at(1 - tail)];
}
