// Axis scales for the loss charts: "nice" linear ticks (1-2-5 steps) and log ticks (decades),
// and the rule for when a chart switches to a log axis. Pure numbers; never divides by zero
// (a constant or single-value domain is widened first).

export const SCALE_KINDS = ["linear", "log"] as const;
export type ScaleKind = (typeof SCALE_KINDS)[number];
/** What a caller asks for: a kind, or `auto` (log when the values span more than two decades). */
export type ScaleChoice = ScaleKind | "auto";

export interface Axis {
  readonly kind: ScaleKind;
  /** The drawn domain, widened to whole ticks. */
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
}

/** Log when asked, or on `auto` when every value is > 0 and max/min > 100; else linear. */
export function chooseScale(choice: ScaleChoice, lo: number, hi: number): ScaleKind {
  const canLog = lo > 0 && Number.isFinite(lo) && Number.isFinite(hi);
  if (choice === "log") return canLog ? "log" : "linear";
  if (choice === "linear") return "linear";
  return canLog && hi / lo > 100 ? "log" : "linear";
}

/** Rounds away floating-point dust: 0.30000000000000004 → 0.3. */
const tidy = (x: number): number => Number(x.toPrecision(12));

/** A domain that has width: a constant value v becomes v ± 10 % (± 1 around 0). */
export function widen(lo: number, hi: number): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi - lo > Math.abs(hi) * 1e-12 && hi > lo) return [lo, hi];
  const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
  return [lo - pad, hi + pad];
}

/** Ticks every 1, 2 or 5 × 10^k covering [lo, hi] with about `target` intervals (whole numbers only if `integer`). */
export function linearAxis(lo0: number, hi0: number, target = 5, integer = false): Axis {
  const [lo, hi] = widen(lo0, hi0);
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const step = integer ? Math.max(1, nice) : nice;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last && ticks.length < 50; k++) ticks.push(tidy(k * step));
  return { kind: "linear", lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks };
}

/** Decade ticks (with 2 and 5 between them when the span is at most three decades). */
export function logAxis(lo0: number, hi0: number): Axis {
  if (!(lo0 > 0) || !(hi0 > 0)) return linearAxis(lo0, hi0);
  let [lo, hi] = lo0 <= hi0 ? [lo0, hi0] : [hi0, lo0];
  if (hi / lo < 1 + 1e-12) [lo, hi] = [lo / 2, hi * 2];
  const d0 = Math.floor(Math.log10(lo) + 1e-9);
  const d1 = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = Math.max(1, d1 - d0);
  const every = Math.ceil(decades / 8);
  const ticks: number[] = [];
  for (let d = d0; d <= d1; d++) {
    if ((d - d0) % every === 0 || d === d1) ticks.push(tidy(10 ** d));
    if (decades <= 3 && d < d1) ticks.push(tidy(2 * 10 ** d), tidy(5 * 10 ** d));
  }
  ticks.sort((a, b) => a - b);
  return { kind: "log", lo: tidy(10 ** d0), hi: tidy(10 ** Math.max(d1, d0 + 1)), ticks: [...new Set(ticks)] };
}

export function axisFor(choice: ScaleChoice, lo: number, hi: number, target = 5): Axis {
  return chooseScale(choice, lo, hi) === "log" ? logAxis(lo, hi) : linearAxis(lo, hi, target);
}

/** Maps a value of `axis` onto [from, to] (pixels); values outside the domain are clamped. */
export function project(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.kind === "log" ? Math.log10 : (v: number) => v;
  const a = f(axis.lo);
  const b = f(axis.hi);
  const span = b - a || 1;
  return (v: number) => {
    const t = (f(v) - a) / span;
    const c = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
    return from + c * (to - from);
  };
}
