// Post-training quantisation calibration: observers that watch values (activations on
// calibration batches, or weights) and give the range a fake-quant grid should cover.
//   minmax      the smallest and largest value seen
//   percentile  the p-th percentile of |x| (and its mirror), clipping rare outliers so the grid
//               spends its levels on the bulk; estimated from a fixed-size uniform reservoir
//               sample (seeded, so the same batches give the same range)
// Legend: n values observed.
import { ArgumentError } from "../errors.js";
import { createRng } from "../tensor/rng.js";

export const CalibrationKind = { minmax: "minmax", percentile: "percentile" } as const;
export type CalibrationKind = (typeof CalibrationKind)[keyof typeof CalibrationKind];

export interface CalibrationOptions {
  readonly kind: CalibrationKind;
  /** For "percentile": which percentile of |x| bounds the range (default 99.9). */
  readonly percentile?: number;
  /** Reservoir size for "percentile" (default 65536). */
  readonly sample?: number;
  readonly seed?: number;
}

export interface Observer {
  readonly kind: CalibrationKind;
  /** Values seen so far. */
  readonly count: number;
  observe(values: Float32Array): void;
  /** The range to quantise over; throws when nothing was observed. */
  range(): { min: number; max: number };
}

export function createObserver(options: CalibrationOptions): Observer {
  const kind = options?.kind;
  if (kind !== "minmax" && kind !== "percentile") {
    throw new ArgumentError({ op: "createObserver", arg: "kind" }, `Expected "kind" to be "minmax" or "percentile", got ${JSON.stringify(kind)}`);
  }
  const pct = options.percentile ?? 99.9;
  if (!(pct > 0 && pct <= 100)) throw new ArgumentError({ op: "createObserver", arg: "percentile" }, `Expected "percentile" in (0, 100], got ${pct}`);
  const cap = options.sample ?? 65536;
  if (!Number.isInteger(cap) || cap < 1) throw new ArgumentError({ op: "createObserver", arg: "sample" }, `Expected "sample" to be a positive integer, got ${cap}`);
  const rng = createRng(options.seed ?? 0);
  const reservoir = new Float32Array(kind === "percentile" ? cap : 0);
  let seen = 0, lo = Infinity, hi = -Infinity, nonFinite = 0;
  return {
    kind,
    get count() {
      return seen;
    },
    observe(values) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isFinite(v)) {
          nonFinite++;
          continue;
        }
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (kind === "percentile") {
          if (seen < cap) reservoir[seen] = Math.abs(v);
          else {
            const j = Math.floor(rng.uniform() * (seen + 1));
            if (j < cap) reservoir[j] = Math.abs(v);
          }
        }
        seen++;
      }
    },
    range() {
      if (seen === 0) {
        throw new ArgumentError({ op: "Observer.range", arg: "values" }, `nothing to calibrate on: no finite value observed${nonFinite ? ` (${nonFinite} non-finite skipped)` : ""}`);
      }
      if (kind === "minmax") return { min: lo, max: hi };
      const s = reservoir.slice(0, Math.min(seen, cap)).sort();
      const a = s[Math.min(s.length - 1, Math.max(0, Math.ceil((pct / 100) * s.length) - 1))]!;
      return { min: Math.max(lo, -a), max: Math.min(hi, a) };
    },
  };
}
