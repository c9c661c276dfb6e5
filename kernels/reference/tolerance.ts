// The bounds `troupe verify` holds a float32 implementation to when it reproduces a float32
// PyTorch reference, and the comparison of one named tensor against its bound. Nothing here
// knows a model: callers pass the sizes the bounds depend on (the longest reduction, the depth)
// and the AdamW settings, so any architecture's reference files can use it.
// How each bound is derived, and the margins measured over the generator's fixtures:
// docs/kernels.md, "How verify's bounds are derived".
// Legend: u float32 unit roundoff, K longest reduction, D depth, ρ trajectory fraction.

/** float32 unit roundoff u = 2^-24: one rounding is off by at most u relative. */
export const F32_UNIT_ROUNDOFF = 2 ** -24;

/** ρ: how far a parameter may end from the reference, as a fraction of how far the reference moved it. */
export const TRAJECTORY_FRACTION = 2e-2;

export interface NumericsShape {
  /** K: the longest reduction of the forward or backward (for a GPT: max(B·T, 4C, V)). */
  readonly reduction: number;
  /** D: how many stages an error passes through on its way out (for a GPT: layers + 2). */
  readonly depth: number;
}

export interface AdamWSettings {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weight_decay: number;
  readonly steps: number;
}

/**
 * ε = 2·u·√K·D, the relative bound for logits, losses and gradients (per tensor, relative to
 * its largest reference value): a sum of K float32 terms is off by about u·√K of the sum of
 * their magnitudes (the probabilistic bound of Higham & Mary 2019; the worst case is K·u), an
 * error passes through D such stages, and both implementations round.
 */
export function f32RelativeBound(shape: NumericsShape): number {
  if (!(shape.reduction >= 1) || !(shape.depth >= 1)) throw new RangeError(`reduction and depth must be >= 1, got ${JSON.stringify(shape)}`);
  return 2 * F32_UNIT_ROUNDOFF * Math.sqrt(shape.reduction) * shape.depth;
}

/**
 * The largest |m̂_t / √v̂_t| AdamW can take at step t, over every gradient sequence (eps only
 * makes it smaller). By Cauchy–Schwarz on m = (1-β1) Σ β1^k g_{t-k}, v = (1-β2) Σ β2^k g²_{t-k}:
 * (1-β1)/(1-β1^t) · √((1-β2^t)/(1-β2)) · √(Σ_{k<t} (β1²/β2)^k). It is 1 at t = 1 (the first
 * step moves every element by lr exactly) and stays near 1 for the usual betas.
 */
export function adamStepBound(beta1: number, beta2: number, t: number): number {
  let sum = 0;
  for (let k = 0; k < t; k++) sum += (beta1 * beta1 / beta2) ** k;
  return ((1 - beta1) / (1 - beta1 ** t)) * Math.sqrt((1 - beta2 ** t) / (1 - beta2)) * Math.sqrt(sum);
}

/** lr · Σ_t U_t: the farthest `steps` AdamW updates can move one element, weight decay aside. */
export function adamTravel(a: AdamWSettings): number {
  let s = 0;
  for (let t = 1; t <= a.steps; t++) s += adamStepBound(a.beta1, a.beta2, t);
  return a.lr * s;
}

/** 4·steps·u·|p|: each step rounds p twice (decay, update) in each of the two implementations. */
export function paramRounding(a: AdamWSettings, magnitude: number): number {
  return 4 * a.steps * F32_UNIT_ROUNDOFF * magnitude;
}

export interface WorstElement {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
  readonly bound: number;
}

/** One named tensor (or a subset of its elements) against its bound. */
export interface TensorComparison {
  readonly name: string;
  /** Elements compared. */
  readonly elements: number;
  /** Largest |actual - expected| (Infinity when either side has a NaN or an infinity there). */
  readonly max_abs_diff: number;
  /** Largest |actual - expected| / bound over the elements: at most 1 passes. */
  readonly worst_ratio: number;
  readonly worst: WorstElement | null;
  readonly ok: boolean;
}

/** The largest finite |value| (a NaN or an infinity fails its own element; it does not widen the others' bound). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    if (v > m && v !== Infinity) m = v;
  }
  return m;
}

/**
 * Compares element by element: |actual_i - expected_i| <= boundOf(i), for the elements `take`
 * accepts (all by default). Lengths must agree (the caller checked shapes).
 */
export function compareElements(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  boundOf: (i: number) => number,
  take: (i: number) => boolean = () => true,
): TensorComparison {
  if (actual.length !== expected.length) throw new RangeError(`${name}: ${actual.length} values against ${expected.length}`);
  let elements = 0;
  let maxDiff = 0;
  let worstRatio = 0;
  let worst: WorstElement | null = null;
  for (let i = 0; i < actual.length; i++) {
    if (!take(i)) continue;
    elements++;
    const a = actual[i]!;
    const e = expected[i]!;
    let d = Math.abs(a - e);
    if (!Number.isFinite(d) || !Number.isFinite(e)) d = Infinity; // a NaN or an infinity on either side never matches
    const b = boundOf(i);
    let ratio = d === 0 ? 0 : d / b;
    if (!(ratio <= Infinity)) ratio = Infinity;
    if (d > maxDiff) maxDiff = d;
    if (ratio > worstRatio || worst === null) {
      if (ratio > worstRatio) worstRatio = ratio;
      worst = { index: i, actual: a, expected: e, bound: b };
    }
  }
  return { name, elements, max_abs_diff: maxDiff, worst_ratio: worstRatio, worst, ok: worstRatio <= 1 };
}

/** |actual_i - expected_i| <= rel·max|expected| + abs for every element (a per-tensor relative bound). */
export function compareScaled(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs: number): TensorComparison {
  const bound = rel * maxAbs(expected) + abs;
  return compareElements(name, actual, expected, () => bound);
}

export interface TrajectoryComparison {
  /** Elements whose reference gradient is at least the floor: bound ρ·moved + rounding. */
  readonly regular: TensorComparison;
  /** Elements whose reference gradient is below the floor: bound 2·travel + rounding. */
  readonly small: TensorComparison;
  /** How far the reference moved the regular elements (largest |after - before|, capped at what AdamW can move). */
  readonly moved: number;
}

export interface TrajectoryOptions {
  readonly adamw: AdamWSettings;
  /** Reference gradients with |g| below this are "small": their sign is rounding noise. */
  readonly gradFloor: number;
  readonly fraction?: number;
}

/**
 * A parameter after the AdamW steps against the reference's. Elements with a real reference
 * gradient must end within ρ of how far the reference moved the tensor (plus the rounding of p
 * itself). Elements whose reference gradient is below the floor take a direction float32 does
 * not decide, so each side can move up to the AdamW travel bound: they are compared with twice
 * that and reported apart.
 */
export function compareTrajectory(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  before: ArrayLike<number>,
  grad0: ArrayLike<number>,
  options: TrajectoryOptions,
): TrajectoryComparison {
  const a = options.adamw;
  const rho = options.fraction ?? TRAJECTORY_FRACTION;
  const travel = adamTravel(a);
  const isSmall = (i: number) => !(Math.abs(grad0[i]!) >= options.gradFloor);
  let moved = 0;
  for (let i = 0; i < expected.length; i++) {
    if (isSmall(i)) continue;
    const m = Math.abs(expected[i]! - before[i]!);
    if (!(m <= moved)) moved = Number.isNaN(m) ? Infinity : m;
  }
  // A reference that moved farther than AdamW can is not an AdamW trajectory: cap what it may claim.
  moved = Math.min(moved, travel * (1 + a.steps * a.lr * a.weight_decay) + a.steps * a.lr * a.weight_decay * maxAbs(before));
  const rounding = (i: number) => paramRounding(a, Math.max(Math.abs(before[i]!), Math.abs(expected[i]!)));
  const regular = compareElements(name, actual, expected, (i) => rho * moved + rounding(i), (i) => !isSmall(i));
  const small = compareElements(name, actual, expected, (i) => 2 * travel + rounding(i), isSmall);
  return { regular, small, moved };
}
