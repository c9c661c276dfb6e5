// report.html's sections for stages 2-6: route accuracy against the entropy baseline and the
// majority class with the vitality head's calibration plot, and — the page's last section —
// what the curriculum bought: routed inference against full depth, measured in the same run.
// (The transfer fidelity table per codec and split layer is transferSection in sections.ts.)
import { lineChart } from "./chart.js";
import { DASH, esc, num } from "./format.js";
import type { RunReport } from "./model.js";
import { table } from "./sections.js";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? DASH : `${(x * 100).toFixed(1)} %`);

export function routeSection(r: RunReport): string {
  const x = r.route;
  if (!x) return "";
  const rows = [
    ["route head", pct(x.accuracy), esc(num(x.macro_f1, 3))],
    ["entropy-only routing (named baseline)", pct(x.entropy_accuracy), esc(num(x.entropy_macro_f1, 3))],
    ["majority class (trivial baseline)", pct(x.majority_accuracy), esc(num(x.majority_macro_f1, 3))],
  ];
  const out = [`<section><h2>Route head (stage 2)</h2>`,
    table("route", ["router", "accuracy", "macro-F1"], rows, ["", "num", "num"]),
    `<p class="muted">${esc(num(x.tokens, 6))} held-out response tokens, pooled over the head layers. Vitality head: mean expected calibration error ${esc(num(x.vitality_ece, 3))}; AUROC of "dead" ${esc(num(x.dead_auroc, 3))} (entropy alone ${esc(num(x.dead_auroc_entropy, 3))}).</p>`];
  const cal = r.calibration ?? [];
  if (cal.length > 0) {
    const lines = [
      { label: "perfect calibration", color: "#9ca3af", dashed: true, points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
      ...cal.map((c, i) => ({ label: `after block ${c.layer} (ECE ${num(c.ece, 3)})`, color: PALETTE[i % PALETTE.length]!, points: c.bins.map((b) => ({ x: b.confidence, y: b.accuracy })) })),
    ];
    out.push(`<figure>${lineChart({ title: "vitality head · calibration", lines, xLabel: "mean confidence in the bin", yLabel: "accuracy in the bin", scale: "linear" })}<figcaption class="muted">Held-out tokens in 10 equal-width confidence bins (empty bins left out); on the diagonal the head's confidence is its accuracy.</figcaption></figure>`);
  }
  out.push(`</section>`);
  return out.join("\n");
}

/** The page's last section: did the curriculum save depth? */
export function architectureSection(r: RunReport): string {
  const a = r.architecture;
  if (!a) return "";
  const rows = [
    ["mean layers per token", esc(num(a.mean_layers_per_token, 4)), esc(num(a.full_layers, 4)), a.depth_saved === null ? DASH : `${esc(pct(a.depth_saved))} fewer`],
    ["tokens/s", esc(num(a.tokens_per_s_routed, 4)), esc(num(a.tokens_per_s_full, 4)), a.speedup === null ? DASH : `× ${esc(num(a.speedup, 3))}`],
    ["exact match", esc(num(a.em_routed, 3)), esc(num(a.em_full, 3)), a.em_drop === null ? DASH : `${a.em_drop >= 0 ? "−" : "+"}${esc(num(Math.abs(a.em_drop), 3))}`],
  ];
  const saved = a.depth_saved !== null && a.depth_saved > 0 && a.speedup !== null && a.speedup > 1 && a.em_drop !== null && a.em_drop <= 0.02;
  const verdict = saved
    ? `Yes: the router leaves ${pct(a.depth_saved)} of the blocks unrun, ${num(a.speedup, 3)}× the tokens/s, within 0.02 of full depth's exact match.`
    : `Not on this run: ${a.depth_saved === null || a.depth_saved <= 0 ? "no depth saved" : a.speedup === null || a.speedup <= 1 ? "no faster than full depth" : "exact match fell more than 0.02"}.`;
  return [`<section><h2>What the curriculum bought</h2>`,
    `<p><strong>${esc(verdict)}</strong></p>`,
    table("architecture", ["", "routed", "full depth", "routed vs full"], rows, ["", "num", "num", "num"]),
    `<p class="muted">Held-out prompts (${esc(num(a.prompts, 6))}), greedy generation with the trained router choosing each token's exit layer, against the same model at full depth; tokens/s is the median of ${esc(num(a.rounds, 3))} rounds of each, measured in the same run. Weights: ${esc(a.weights)}.</p>`,
    `</section>`].join("\n");
}
