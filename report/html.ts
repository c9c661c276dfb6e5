// report.html: one self-contained page (inline CSS and SVG, no script, no external resource)
// that reads top to bottom: the run's outcome, why it stopped, the stage table, then one
// section per stage with its gate, attempts and loss curves, then transfer fidelity,
// benchmarks, the cast and notes. Every string from the run is escaped.
import { STAGES, type StageId } from "../actors/director/mod.js";
import { bound, clip, compact, DASH, duration, esc, num } from "./format.js";
import type { RunReport, StageReport } from "./model.js";
import { architectureSection, routeSection } from "./curriculum-html.js";
import { badge, benchmarkSection, castSection, notesSection, stageSection, table, transferSection } from "./sections.js";

const CSS = `
:root { color-scheme: light; --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --ok: #047857; --bad: #b91c1c; --warn: #b45309; --run: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 8px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
h2 { font-size: 17px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 0 0 6px; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f3; padding: 1px 4px; border-radius: 4px; }
pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f4f6; padding: 10px; border-radius: 6px; overflow: auto; max-height: 360px; }
header, section.stage, .stop { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }
section.stage { margin-top: 14px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 6px 18px; margin: 10px 0 0; }
.facts div { display: flex; flex-direction: column; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.stop { margin-top: 14px; border-color: #fca5a5; background: #fef2f2; }
.stop.warn { border-color: #fcd34d; background: #fffbeb; }
.stop p { margin: 4px 0 0; }
table { width: 100%; border-collapse: collapse; background: #fff; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; background: #fafafa; }
table.stages, table.transfer, table.bench, table.cast, table.hosts { border: 1px solid var(--line); border-radius: 10px; }
td.nw { white-space: nowrap; }
th.num { text-align: right; }
td.name { min-width: 9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.notrun td { color: #9ca3af; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.badge.ok { color: var(--ok); background: #ecfdf5; border-color: #a7f3d0; }
.badge.bad { color: var(--bad); background: #fef2f2; border-color: #fecaca; }
.badge.warn { color: var(--warn); background: #fffbeb; border-color: #fde68a; }
.badge.run { color: var(--run); background: #eff6ff; border-color: #bfdbfe; }
.badge.muted { color: var(--muted); background: #f3f4f6; border-color: #e5e7eb; }
.muted { color: var(--muted); }
.verdict { overflow-wrap: anywhere; }
.checks { list-style: none; padding: 0; margin: 6px 0; }
.checks li { margin: 2px 0; }
figure { margin: 12px 0 0; }
svg.chart { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 8px; }
.caption { color: var(--warn); font-size: 12px; margin: 4px 0 0; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--muted); }
ul.notes { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 30px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

const STATUS_BADGE: Readonly<Record<string, [string, string]>> = {
  passed: ["pass", "ok"],
  passed_off_path: ["passed off path", "warn"],
  failed: ["fail", "bad"],
  not_available: ["not available", "warn"],
  omitted: ["not in scenario", "muted"],
  rolled_back: ["rolled back", "warn"],
  running: ["running", "run"],
};

const OUTCOME_BADGE: Readonly<Record<string, [string, string]>> = {
  done: ["done", "ok"],
  stopped: ["stopped", "bad"],
  rolled_back: ["rolled back", "warn"],
  running: ["running", "run"],
};

function gateCell(s: StageReport): string {
  const g = s.gate;
  if (!g.metric) return DASH;
  const arrow = g.direction === "higher" ? "↑" : g.direction === "lower" ? "↓" : "";
  const value = g.value === null ? `<span class="muted">not measured</span>` : `<b>${esc(num(g.value))}</b>`;
  return `<code>${esc(g.metric)}</code> <span class="muted" title="${esc(g.direction ? `${g.direction} is better` : "")}">${esc(arrow)}</span><br>${value}${g.threshold === null ? "" : ` <span class="muted">vs ${esc(bound(g.direction, g.threshold))}</span>`}`;
}

function stageRow(s: StageReport, stoppedAt: StageId | null): string[] {
  const [text, cls] = STATUS_BADGE[s.status] ?? [s.status, "muted"];
  const stopped = stoppedAt === s.stage ? ` ${badge("run stopped", "bad")}` : "";
  const note = s.status === "passed" || s.status === "failed" ? (s.verdict ?? s.note) : (s.note ?? s.verdict);
  return [
    `<a href="#stage-${s.stage}">${s.stage}</a>`,
    esc(s.name),
    `${badge(text, cls)}${stopped}`,
    s.trains.length > 0 ? s.trains.map((t) => `<code>${esc(t)}</code>`).join(" ") : `<span class="muted">nothing</span>`,
    esc(compact(s.steps)),
    gateCell(s),
    s.attempts === 0 ? DASH : `${s.attempts}${s.retries > 0 ? ` <span class="muted">(${s.retries} retr${s.retries === 1 ? "y" : "ies"})</span>` : ""}`,
    esc(duration(s.wall_s)),
    `<span class="verdict">${esc(clip(note ?? "", 400))}</span>`,
  ];
}

function stageTable(r: RunReport): string {
  const stoppedAt = r.stopped?.stage ?? null;
  const rows = r.stages.map((s) => stageRow(s, stoppedAt));
  // Stages of the curriculum the run never reached get a row too, so nothing looks skipped.
  const seen = new Set(r.stages.map((s) => s.stage));
  const notRun = STAGES.filter((s) => !seen.has(s.id)).map((s) => ({
    cls: "notrun",
    cells: [String(s.id), esc(s.name), badge("not run", "muted"), DASH, DASH, DASH, DASH, DASH, r.outcome === "running" ? "" : "the run ended before this stage"],
  }));
  return table("stages", ["stage", "name", "status", "trains", "steps", "gate", "attempts", "wall", "verdict / note"], [...rows, ...notRun], [
    "num", "name", "", "", "num", "nw", "nw", "num", "",
  ]);
}

function header(r: RunReport): string {
  const [text, cls] = OUTCOME_BADGE[r.outcome] ?? [r.outcome, "muted"];
  const passed = r.stages.filter((s) => s.passed).length;
  const facts: [string, string][] = [
    ["wall time", duration(r.wall_s)],
    ["stages passed", `${passed} of ${STAGES.length}`],
    ["director resumes", String(r.resumes)],
  ];
  if (r.scenario) {
    facts.push(["scenario", r.scenario.file ? `${r.scenario.name} (${r.scenario.file})` : r.scenario.name]);
    if (r.scenario.digest) facts.push(["config digest", r.scenario.digest]);
  }
  facts.push(["report written", r.generated_at.replace("T", " ").replace(/\.\d+Z$/, " UTC")]);
  const dl = facts.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join("");
  return `<header><h1>troupe run <code>${esc(r.run_id)}</code> ${badge(text, cls)}</h1><dl class="facts">${dl}</dl></header>`;
}

function stopBox(r: RunReport): string {
  if (!r.stopped) return "";
  const where = r.stopped.stage === null ? "" : ` at stage ${r.stopped.stage}`;
  const cls = r.stopped.kind === "not_available" ? "stop warn" : "stop";
  return `<div class="${cls}"><strong>The run stopped${esc(where)} (${esc(r.stopped.kind.replace(/_/g, " "))}).</strong><p>${esc(r.stopped.reason)}</p></div>`;
}

/** The whole page. */
export function renderHtml(r: RunReport): string {
  const title = `troupe · ${r.run_id} · ${r.outcome.replace("_", " ")}`;
  const ran = r.stages.filter((s) => s.attempts > 0 || s.series.length > 0);
  const body = [
    header(r),
    stopBox(r),
    `<h2>Stages</h2>`,
    stageTable(r),
    ran.length > 0 ? `<h2>Per stage</h2>` : "",
    ...ran.map((s) => stageSection(s, r.stopped?.stage === s.stage)),
    routeSection(r),
    transferSection(r),
    benchmarkSection(r),
    castSection(r),
    notesSection(r),
    architectureSection(r),
    `<footer>${esc(r.format)} · the same data as JSON: <code>report.json</code> next to this file.</footer>`,
  ];
  return [
    `<!doctype html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    `</head>`,
    `<body><main>`,
    ...body.filter((b) => b !== ""),
    `</main></body>`,
    `</html>`,
    ``,
  ].join("\n");
}
