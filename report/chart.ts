// A line chart as a self-contained SVG string: axes with nice ticks, a linear or log y axis,
// one <polyline> per line (a line with a single point is a <circle>), a legend, vertical
// markers, and the last value of each legend entry labelled at the right edge. No script,
// no external resources. Non-finite points are dropped and the chart says how many.
import { clip, esc, num } from "./format.js";
import { axisFor, linearAxis, project, type ScaleChoice } from "./scale.js";

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

export interface ChartLine {
  /** Legend entry; lines sharing a label share one entry and one final-value label. */
  readonly label: string;
  readonly color: string;
  readonly points: readonly ChartPoint[];
  readonly width?: number;
  readonly dashed?: boolean;
  /** 0..1; earlier attempts are drawn fainter. */
  readonly opacity?: number;
}

export interface ChartMarker {
  readonly x: number;
  readonly label: string;
  /** `boundary` (default): a dashed vertical line with its label; `alert`: a red tick on the x axis, label as tooltip. */
  readonly kind?: "boundary" | "alert";
}

export interface ChartOptions {
  readonly title: string;
  readonly lines: readonly ChartLine[];
  readonly markers?: readonly ChartMarker[];
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly scale?: ScaleChoice;
  /** Non-finite values dropped before the chart saw them (the recorder's count). */
  readonly dropped?: number;
  readonly width?: number;
  readonly height?: number;
}

const M = { left: 58, right: 104, top: 42, bottom: 44 } as const;
const f1 = (v: number): string => String(Math.round(v * 10) / 10);
const opacityAttr = (o: number | undefined, name: string): string =>
  o !== undefined && Number.isFinite(o) && o >= 0 && o < 1 ? ` ${name}="${Math.round(o * 100) / 100}"` : "";

/** Moves label positions apart to at least `gap`, keeping them within [top, bottom] while they fit. */
export function spread(ys: readonly number[], gap: number, top: number, bottom: number): number[] {
  const order = ys.map((y, i) => ({ y: Number.isFinite(y) ? y : top, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const out = order.map((o) => o.y);
  for (let k = 0; k < out.length; k++) out[k] = Math.max(out[k]!, k === 0 ? top : out[k - 1]! + gap);
  for (let k = out.length - 1; k >= 0; k--) out[k] = Math.min(out[k]!, k === out.length - 1 ? bottom : out[k + 1]! - gap);
  const res = new Array<number>(ys.length);
  order.forEach((o, k) => (res[o.i] = Math.max(top, out[k]!)));
  return res;
}

export function lineChart(opts: ChartOptions): string {
  const W = opts.width ?? 960;
  const H = opts.height ?? 320;
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const y1 = M.top;
  let dropped = Math.max(0, Math.floor(opts.dropped ?? 0));
  const lines = opts.lines.map((l) => {
    const pts = l.points.filter((p) => Number.isFinite(p?.x) && Number.isFinite(p?.y));
    dropped += l.points.length - pts.length;
    return { ...l, points: pts };
  });
  const all = lines.flatMap((l) => l.points);
  const out: string[] = [];
  const label = esc(opts.title);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11">`,
    `<title>${label}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${x0}" y="18" font-size="13" font-weight="600" fill="#222">${esc(clip(opts.title, 70))}</text>`,
  );
  const droppedNote = dropped > 0 ? `${dropped} non-finite value${dropped === 1 ? "" : "s"} dropped` : "";
  if (all.length === 0) {
    out.push(
      `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="#fafafa" stroke="#ddd"/>`,
      `<text x="${f1((x0 + x1) / 2)}" y="${f1((y0 + y1) / 2)}" text-anchor="middle" fill="#888" font-size="13">no loss values reported</text>`,
    );
    if (droppedNote) out.push(`<text x="${x1}" y="${H - 8}" text-anchor="end" fill="#b45309" class="dropped">${esc(droppedNote)}</text>`);
    out.push(`</svg>`);
    return out.join("\n");
  }

  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xAxis = linearAxis(Math.min(...xs), Math.max(...xs), 6, true);
  const yAxis = axisFor(opts.scale ?? "auto", Math.min(...ys), Math.max(...ys), 5);
  const px = project(xAxis, x0, x1);
  const py = project(yAxis, y0, y1);

  // Grid, ticks and axis titles.
  out.push(`<g class="grid" stroke="#e5e7eb" stroke-width="1">`);
  for (const t of yAxis.ticks) out.push(`<line x1="${x0}" x2="${x1}" y1="${f1(py(t))}" y2="${f1(py(t))}"/>`);
  for (const t of xAxis.ticks) out.push(`<line x1="${f1(px(t))}" x2="${f1(px(t))}" y1="${y1}" y2="${y0}"/>`);
  out.push(`</g>`);
  out.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#9ca3af"/>`);
  out.push(`<g class="ticks" fill="#555">`);
  for (const t of yAxis.ticks) out.push(`<text x="${x0 - 6}" y="${f1(py(t) + 4)}" text-anchor="end">${esc(num(t, 3))}</text>`);
  for (const t of xAxis.ticks) out.push(`<text x="${f1(px(t))}" y="${y0 + 16}" text-anchor="middle">${esc(num(t, 3))}</text>`);
  out.push(`</g>`);
  if (opts.xLabel) out.push(`<text x="${f1((x0 + x1) / 2)}" y="${H - 8}" text-anchor="middle" fill="#555">${esc(opts.xLabel)}</text>`);
  const yTitle = `${opts.yLabel ?? ""}${yAxis.kind === "log" ? " (log scale)" : ""}`.trim();
  if (yTitle) out.push(`<text x="${x0}" y="${y1 - 6}" fill="#555" class="ylabel">${esc(yTitle)}</text>`);
  if (droppedNote) out.push(`<text x="${x1}" y="${H - 8}" text-anchor="end" fill="#b45309" class="dropped">${esc(droppedNote)}</text>`);

  // Markers (attempt boundaries) behind the data.
  for (const m of opts.markers ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const x = f1(px(m.x));
    if (m.kind === "alert") {
      const xp = px(m.x);
      out.push(`<path class="alert" d="M${f1(xp)},${y0 - 7} L${f1(xp - 4)},${y0} L${f1(xp + 4)},${y0} Z" fill="#dc2626"><title>${esc(m.label)}</title></path>`);
      continue;
    }
    out.push(
      `<g class="marker"><line x1="${x}" x2="${x}" y1="${y1}" y2="${y0}" stroke="#6b7280" stroke-dasharray="4 3"/>` +
        `<text x="${f1(px(m.x) + 4)}" y="${y1 + 12}" fill="#4b5563">${esc(clip(m.label, 64))}</text></g>`,
    );
  }

  // Data.
  out.push(`<g class="lines" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  for (const l of lines) {
    const attrs = `stroke="${esc(l.color)}" stroke-width="${l.width ?? 1.6}"${l.dashed ? ` stroke-dasharray="5 3"` : ""}${opacityAttr(l.opacity, "stroke-opacity")}`;
    if (l.points.length === 1) {
      const p = l.points[0]!;
      out.push(`<circle cx="${f1(px(p.x))}" cy="${f1(py(p.y))}" r="3" fill="${esc(l.color)}" stroke="none"${opacityAttr(l.opacity, "fill-opacity")}><title>${esc(l.label)} ${esc(num(p.y))}</title></circle>`);
    } else if (l.points.length > 1) {
      const pts = l.points.map((p) => `${f1(px(p.x))},${f1(py(p.y))}`).join(" ");
      out.push(`<polyline ${attrs} points="${pts}"><title>${esc(l.label)}</title></polyline>`);
    }
  }
  out.push(`</g>`);

  // Legend and final values, one per label, from the last line with that label.
  const last = new Map<string, { color: string; p: ChartPoint }>();
  for (const l of lines) if (l.points.length > 0) last.set(l.label, { color: l.color, p: l.points[l.points.length - 1]! });
  const entries = [...last.entries()];
  const labelYs = spread(entries.map(([, e]) => py(e.p.y)), 13, y1 + 4, y0);
  out.push(`<g class="final">`);
  entries.forEach(([name, e], i) => {
    const y = labelYs[i]!;
    out.push(
      `<line x1="${f1(px(e.p.x))}" y1="${f1(py(e.p.y))}" x2="${x1 + 4}" y2="${f1(y)}" stroke="${esc(e.color)}" stroke-opacity="0.35"/>` +
        `<text x="${x1 + 7}" y="${f1(y + 4)}" fill="${esc(e.color)}">${esc(clip(name, 10))} ${esc(num(e.p.y))}</text>`,
    );
  });
  out.push(`</g>`);
  let lx = x1;
  const legend: string[] = [];
  for (const [name, e] of [...entries].reverse()) {
    const text = clip(name, 16);
    const w = 22 + text.length * 6.5;
    lx -= w;
    legend.push(`<line x1="${f1(lx)}" x2="${f1(lx + 14)}" y1="14" y2="14" stroke="${esc(e.color)}" stroke-width="2.5"/><text x="${f1(lx + 18)}" y="18" fill="#333">${esc(text)}</text>`);
  }
  out.push(`<g class="legend">${legend.join("")}</g>`);
  out.push(`</svg>`);
  return out.join("\n");
}
