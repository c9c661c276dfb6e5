// A stage's loss curves as a chart: every attempt's terms on one step axis, attempts laid end
// to end (attempt 2 starts where attempt 1 ended) with a dashed boundary naming what the retry
// changed. One polyline per term and attempt; each term keeps its colour across stages and
// attempts; earlier (failed) attempts are drawn fainter. `total` is the thick dark line.
import { lineChart, type ChartLine, type ChartMarker } from "./chart.js";
import { num } from "./format.js";
import type { AttemptReport, StageReport } from "./model.js";
import type { ScaleChoice } from "./scale.js";

export const TERM_COLORS: Readonly<Record<string, string>> = {
  total: "#1f2937",
  sft: "#2563eb",
  route: "#d97706",
  vit: "#059669",
  depth: "#7c3aed",
  sem: "#db2777",
  transfer: "#0891b2",
};
const SPARE_COLORS = ["#65a30d", "#dc2626", "#4f46e5", "#ca8a04", "#0f766e", "#9333ea"];

export function termColor(term: string, spareIndex: number): string {
  return TERM_COLORS[term] ?? SPARE_COLORS[spareIndex % SPARE_COLORS.length]!;
}

/** "lr ×0.5, steps ×1.5, seed 8" — what a retry changed. */
export function changesText(a: Pick<AttemptReport, "changes"> | undefined): string {
  const c = a?.changes ?? {};
  const parts: string[] = [];
  if (typeof c.lrScale === "number") parts.push(`lr ×${num(c.lrScale, 3)}`);
  if (typeof c.stepsScale === "number") parts.push(`steps ×${num(c.stepsScale, 3)}`);
  if (typeof c.seed === "number") parts.push(`seed ${c.seed}`);
  for (const [k, v] of Object.entries(c)) if (!["lrScale", "stepsScale", "seed"].includes(k)) parts.push(`${k} ${num(v)}`);
  return parts.join(", ");
}

export interface CurveSummary {
  /** Values reported and points drawn, over all terms and attempts. */
  readonly reported: number;
  readonly drawn: number;
  /** NaN/Infinity dropped, and where the first one came. */
  readonly nonFinite: number;
  readonly firstNonFinite: { readonly term: string; readonly attempt: number; readonly step: number } | null;
  /** Reports of steps already recorded (repeated after a restart) that were skipped. */
  readonly replayed: number;
}

export function curveSummary(stage: Pick<StageReport, "series">): CurveSummary {
  let reported = 0;
  let drawn = 0;
  let nonFinite = 0;
  let firstNonFinite: CurveSummary["firstNonFinite"] = null;
  let replayed = 0;
  for (const a of stage.series ?? []) {
    for (const [term, t] of Object.entries(a.terms ?? {})) {
      if (!t) continue;
      reported += t.reported ?? 0;
      drawn += t.points?.length ?? 0;
      nonFinite += t.non_finite ?? 0;
      replayed += t.replayed ?? 0;
      if (firstNonFinite === null && t.first_non_finite_step !== null && t.first_non_finite_step !== undefined) {
        firstNonFinite = { term, attempt: a.attempt, step: t.first_non_finite_step };
      }
    }
  }
  return { reported, drawn, nonFinite, firstNonFinite, replayed };
}

export interface CurveOptions {
  readonly scale?: ScaleChoice;
  readonly width?: number;
  readonly height?: number;
}

/** The SVG of a stage's loss curves (a "no loss values reported" frame when it has none). */
export function stageCurves(stage: StageReport, options: CurveOptions = {}): string {
  const lines: ChartLine[] = [];
  const markers: ChartMarker[] = [];
  const spare = new Map<string, number>();
  const series = [...(stage.series ?? [])].sort((a, b) => a.attempt - b.attempt);
  const lastAttempt = series[series.length - 1]?.attempt;
  let offset = 0;
  series.forEach((a, i) => {
    const info = stage.attempt_reports?.find((r) => r.attempt === a.attempt);
    if (i > 0) {
      const changed = changesText(info);
      markers.push({ x: offset, label: `attempt ${a.attempt}${changed ? ` · ${changed}` : ""}` });
    }
    let maxStep = 0;
    for (const [term, t] of Object.entries(a.terms ?? {})) {
      if (!t) continue;
      if (!TERM_COLORS[term] && !spare.has(term)) spare.set(term, spare.size);
      const points = (t.points ?? []).map((p) => ({ x: offset + p.step, y: p.value }));
      if (t.non_finite > 0 && typeof t.first_non_finite_step === "number") {
        const n = t.non_finite;
        markers.push({ x: offset + t.first_non_finite_step, kind: "alert", label: `${term}: ${n} NaN/Infinity value${n === 1 ? "" : "s"} from step ${t.first_non_finite_step} (attempt ${a.attempt})` });
      }
      for (const p of t.points ?? []) if (Number.isFinite(p.step)) maxStep = Math.max(maxStep, p.step);
      lines.push({
        label: term,
        color: termColor(term, spare.get(term) ?? 0),
        points,
        width: term === "total" ? 2.4 : 1.6,
        ...(a.attempt !== lastAttempt ? { opacity: 0.5 } : {}),
      });
    }
    offset += Math.max(maxStep, info?.planned_steps ?? 0, info?.steps ?? 0);
  });
  const dropped = series.reduce(
    (n, a) => n + Object.values(a.terms ?? {}).reduce((m, t) => m + (t?.non_finite ?? 0), 0),
    0,
  );
  return lineChart({
    title: `stage ${stage.stage} · ${stage.name} · losses`,
    lines,
    markers,
    xLabel: series.length > 1 ? "step (attempts laid end to end)" : "step",
    yLabel: "loss",
    scale: options.scale ?? "auto",
    dropped,
    ...(options.width ? { width: options.width } : {}),
    ...(options.height ? { height: options.height } : {}),
  });
}
