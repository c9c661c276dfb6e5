// Text helpers shared by the HTML page, the SVG charts and the terminal view: escaping and
// number, duration and size formatting. Every function accepts anything and returns a
// string, so a NaN or a missing value prints as "–" instead of breaking a page.

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for HTML/SVG element content and quoted attribute values. Characters XML 1.0
 * forbids (C0 controls other than tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD,
 * so the SVG stays well-formed whatever an error message contains.
 */
export function esc(value: unknown): string {
  const s = typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
  return s
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

export const DASH = "–";

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** 4 significant digits, no trailing zeros; exponent form for very large or small values. */
export function num(x: unknown, digits = 4): string {
  if (!isNum(x)) return x === null || x === undefined ? DASH : String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) return x.toExponential(Math.max(0, digits - 2)).replace(/\.?0+e/, "e");
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(digits)));
}

/** 1234567 → "1.23M"; for counts and rates. */
export function compact(x: unknown): string {
  if (!isNum(x)) return DASH;
  const a = Math.abs(x);
  for (const [div, unit] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) {
    if (a >= div) return `${Number((x / div).toPrecision(3))}${unit}`;
  }
  return a >= 10 ? String(Math.round(x)) : String(Number(x.toPrecision(3)));
}

/** Seconds → "0.4 s", "12.5 s", "3m 05s", "2h 01m". */
export function duration(seconds: unknown): string {
  if (!isNum(seconds) || seconds < 0) return DASH;
  if (seconds < 10) return `${Number(seconds.toFixed(seconds < 1 ? 2 : 1))} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}h ${pad(m)}m` : `${m}m ${pad(s % 60)}s`;
}

/** Seconds → "0:42", "12:05", "1:02:03" (a clock, for the live view). */
export function clock(seconds: unknown): string {
  if (!isNum(seconds) || seconds < 0) return "--:--";
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** 1536 → "1.5 KiB". */
export function bytes(x: unknown): string {
  if (!isNum(x) || x < 0) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = x;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${Number(v.toPrecision(3))} ${units[i]}`;
}

/** "≥ min 0.02" / "≤ max 0.05" for a gate. */
export function bound(direction: string | null, threshold: unknown): string {
  if (!isNum(threshold)) return DASH;
  return direction === "lower" ? `≤ ${num(threshold)}` : direction === "higher" ? `≥ ${num(threshold)}` : num(threshold);
}

/** Cuts to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
