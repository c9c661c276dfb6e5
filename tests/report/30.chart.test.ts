// SVG line charts for the edge cases: well-formed XML, and the polylines/points expected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lineChart, stageCurves, type StageReport } from "../../report/mod.js";
import { attrs, checkMarkup } from "./markup.js";

const line = (label: string, ys: number[], x0 = 0) => ({ label, color: "#123456", points: ys.map((y, i) => ({ x: x0 + i, y })) });
const coords = (svg: string) => attrs(svg, "polyline", "points").map((p) => p.split(" ").map((xy) => xy.split(",").map(Number)));

test("report - chart with no points draws a labelled empty frame", () => {
  const svg = lineChart({ title: "empty", lines: [] });
  const c = checkMarkup(svg);
  assert.equal(c.get("polyline") ?? 0, 0);
  assert.match(svg, /no loss values reported/);
  const svg2 = lineChart({ title: "only NaN", lines: [line("sft", [Number.NaN, Number.POSITIVE_INFINITY])] });
  checkMarkup(svg2);
  assert.match(svg2, /2 non-finite values dropped/);
});

test("report - a single point is a circle, not an empty polyline", () => {
  const svg = lineChart({ title: "one", lines: [line("total", [2.5])] });
  const c = checkMarkup(svg);
  assert.equal(c.get("polyline") ?? 0, 0);
  assert.equal(c.get("circle"), 1);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  assert.match(svg, /total 2\.5</, "final value labelled");
});

test("report - a constant series draws a flat line with finite coordinates", () => {
  const svg = lineChart({ title: "flat", lines: [line("sft", [1, 1, 1, 1, 1])] });
  checkMarkup(svg);
  const [pts] = coords(svg);
  assert.equal(pts!.length, 5);
  assert.ok(pts!.flat().every(Number.isFinite));
  assert.equal(new Set(pts!.map(([, y]) => y)).size, 1, "one y for all points");
  assert.doesNotMatch(svg, /NaN/);
});

test("report - NaN and Infinity are dropped and counted", () => {
  const svg = lineChart({ title: "nan", lines: [line("sft", [3, Number.NaN, 2, Number.NEGATIVE_INFINITY, 1]), line("total", [4, 3, 2])], dropped: 5 });
  const c = checkMarkup(svg);
  assert.equal(c.get("polyline"), 2);
  assert.deepEqual(coords(svg).map((p) => p.length), [3, 3]);
  assert.match(svg, /7 non-finite values dropped/, "5 from the recorder + 2 here");
  assert.doesNotMatch(svg.replace(/non-finite/g, ""), /NaN|Infinity/);
});

test("report - values over more than two decades get a log axis with decade ticks", () => {
  const ys = Array.from({ length: 50 }, (_, i) => 10 * 0.85 ** i); // 10 → ~0.0034
  const svg = lineChart({ title: "log", lines: [line("total", ys)], yLabel: "loss" });
  checkMarkup(svg);
  assert.match(svg, /loss \(log scale\)/);
  for (const t of ["0.001", "0.01", "0.1", "1", "10"]) assert.match(svg, new RegExp(`>${t.replace(".", "\\.")}</text>`));
  const lin = lineChart({ title: "lin", lines: [line("total", ys)], scale: "linear" });
  assert.doesNotMatch(lin, /log scale/);
  // On the log axis equal ratios are equal distances: y(10)−y(1) = y(1)−y(0.1).
  const svg2 = lineChart({ title: "r", lines: [line("t", [10, 1, 0.1, 0.01])] });
  const [p] = coords(svg2);
  assert.ok(Math.abs(p![1]![1]! - p![0]![1]! - (p![2]![1]! - p![1]![1]!)) < 0.2);
});

test("report - chart escapes its labels", () => {
  const svg = lineChart({ title: `<script>"x" & y</script>`, lines: [line(`a<b>&"`, [1, 2])], markers: [{ x: 1, label: "</svg><svg>" }] });
  checkMarkup(svg);
  assert.doesNotMatch(svg, /<script|<b>/);
});

test("report - stage curves: one polyline per term and attempt, attempts end to end, boundary marked", () => {
  const pts = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ step: i + 1, value: f(i + 1) }));
  const term = (points: { step: number; value: number }[], non_finite = 0) => ({ points, reported: points.length, non_finite, first_non_finite_step: non_finite ? 7 : null, replayed: 0 });
  const stage = {
    stage: 1,
    name: "domain adapter",
    series: [
      { attempt: 1, terms: { total: term(pts(100, (i) => 3 - i / 100)), sft: term(pts(100, (i) => 2.9 - i / 100), 2) } },
      { attempt: 2, terms: { total: term(pts(150, (i) => 2 - i / 300)), sft: term(pts(150, (i) => 1.9 - i / 300)) } },
    ],
    attempt_reports: [
      { attempt: 1, planned_steps: 120, steps: 100, changes: {} },
      { attempt: 2, planned_steps: 150, steps: 150, changes: { lrScale: 0.5 } },
    ],
  } as unknown as StageReport;
  const svg = stageCurves(stage);
  const c = checkMarkup(svg);
  assert.equal(c.get("polyline"), 4);
  const lines = coords(svg);
  assert.deepEqual(lines.map((l) => l.length), [100, 100, 150, 150]);
  assert.ok(lines[2]![0]![0]! > lines[0]![99]![0]!, "attempt 2 starts right of attempt 1");
  assert.match(svg, /attempt 2 · lr ×0\.5/);
  assert.match(svg, /2 non-finite values dropped/);
  assert.match(svg, /class="alert"/, "where the NaN began is marked");
  assert.equal(attrs(svg, "polyline", "stroke-opacity").length, 2, "the failed attempt is drawn faint");
});
