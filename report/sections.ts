// The parts of report.html below the stage table: one section per stage that ran (gate, what
// the gate stood on, attempts, loss curves, evaluator details), and the tables later stages fill (transfer
// fidelity, benchmarks), the cast, and notes. Every string goes through esc().
import { changesText, curveSummary, stageCurves } from "./curves.js";
import { bound, bytes, compact, DASH, duration, esc, num } from "./format.js";
import type { AttemptReport, RunReport, StageReport } from "./model.js";

/** A row of already-escaped cells, optionally with a class. */
export type Row = readonly string[] | { readonly cls: string; readonly cells: readonly string[] };

/**
 * A <table> from a header row and rows of already-escaped cells. `cols` gives a class per
 * column ("num" right-aligns, "nw" does not wrap).
 */
export function table(cls: string, head: readonly string[], rows: readonly Row[], cols: readonly string[] = []): string {
  const th = head.map((h, i) => `<th${cols[i] ? ` class="${esc(cols[i])}"` : ""}>${esc(h)}</th>`).join("");
  const td = (c: string, i: number) => (cols[i] ? `<td class="${esc(cols[i])}">${c}</td>` : `<td>${c}</td>`);
  const tr = (r: Row): string => {
    const [open, cells] = "cells" in r ? [`<tr class="${esc(r.cls)}">`, r.cells] : ["<tr>", r];
    return `${open}${cells.map(td).join("")}</tr>`;
  };
  const body = rows.map(tr).join("\n");
  return `<table class="${esc(cls)}"><thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const OUTCOME_CLASS: Readonly<Record<string, string>> = {
  passed: "ok",
  gate_failed: "bad",
  error: "bad",
  timeout: "bad",
  running: "run",
};

export function badge(text: string, cls: string): string {
  return `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
}

function attemptRow(a: AttemptReport, direction: string | null): string[] {
  const gate = a.metric === null ? DASH : `${esc(num(a.metric))} <span class="muted">${esc(bound(direction, a.threshold))}</span>`;
  const said = a.error ? `${esc(a.error.name)}: ${esc(a.error.message)}` : esc(a.verdict ?? "");
  return [
    String(a.attempt),
    badge(a.outcome.replace("_", " "), OUTCOME_CLASS[a.outcome] ?? "muted"),
    `${esc(compact(a.steps))}<span class="muted"> / ${esc(compact(a.planned_steps))}</span>`,
    esc(a.lr === null ? DASH : num(a.lr, 3)),
    esc(String(a.seed)),
    esc(changesText(a) || DASH),
    gate,
    `<span class="verdict">${said || DASH}</span>`,
    esc(duration(a.wall_s)),
    a.restarts > 0 ? `<b>${a.restarts}</b>` : "0",
  ];
}

function curveCaption(s: StageReport): string {
  const c = curveSummary(s);
  const parts: string[] = [];
  if (c.drawn < c.reported) parts.push(`${c.reported} values reported, ${c.drawn} drawn (lowest and highest point of each stretch kept)`);
  if (c.nonFinite > 0 && c.firstNonFinite) {
    const f = c.firstNonFinite;
    parts.push(`${c.nonFinite} NaN/Infinity value${c.nonFinite === 1 ? "" : "s"} dropped; the first: ${f.term} at step ${f.step} of attempt ${f.attempt}`);
  }
  if (c.replayed > 0) parts.push(`${c.replayed} report${c.replayed === 1 ? "" : "s"} of steps already drawn (repeated after a restart) left out`);
  return parts.length > 0 ? `<p class="caption">${esc(parts.join(". "))}.</p>` : "";
}

function details(a: AttemptReport): string {
  if (!a.details || Object.keys(a.details).length === 0) return "";
  let text = JSON.stringify(a.details, null, 2);
  if (text.length > 20_000) text = `${text.slice(0, 20_000)}\n… (${text.length - 20_000} more characters in report.json)`;
  return `<details><summary>evaluator details, attempt ${a.attempt}</summary><pre>${esc(text)}</pre></details>`;
}

// What a stage's gate stood on: the score and every reference it was measured against on the
// same held-out items (the named baseline and the trivial ones: constant answer, majority
// class), each with its interval, the reference the gain is over and the gain's interval; then
// the gate's required checks.
// two decimals for accuracies; small values (a KL of 4e-4) keep three significant digits
const two = (x: number | null | undefined) =>
  typeof x === "number" && Number.isFinite(x) ? (x !== 0 && Math.abs(x) < 0.01 ? x.toPrecision(3) : x.toFixed(2)) : DASH;
const ci = (c: readonly (number | null)[] | null | undefined) => (c ? `[${two(c[0])}, ${two(c[1])}]` : DASH);

export function evidenceSection(s: StageReport): string {
  const out: string[] = [];
  const e = s.evidence;
  if (e) {
    const pct = Math.round(e.level * 100);
    const rows = [
      [`<b>${esc(e.score.name)}</b>`, "measured", `<b>${esc(two(e.score.value))}</b>`, esc(ci(e.score.ci)), e.score.correct === undefined ? DASH : esc(`${e.score.correct} / ${e.n}`), DASH],
      ...e.references.map((r) => [
        r.name === e.against ? `${esc(r.name)} ${badge("best reference", "warn")}` : esc(r.name),
        esc(r.kind),
        esc(two(r.value)),
        esc(ci(r.ci)),
        r.correct === undefined ? DASH : esc(`${r.correct} / ${e.n}`),
        esc(r.detail ?? DASH),
      ]),
    ];
    out.push(
      `<p class="muted">${esc(e.measure)} on ${e.n} held-out items, against every reference on the same items ` +
        `(${pct}% intervals: ${esc(e.method)}).</p>`,
    );
    out.push(table("evidence", ["", "kind", "value", `${pct}% CI`, "right", "answers"], rows, ["nw", "nw", "num", "nw", "num", ""]));
    const by = e.direction === "lower" ? " (how much lower the score is)" : "";
    out.push(`<p class="gate">Gain over <code>${esc(e.against)}</code>${by}: <b>${esc(two(e.gain))}</b> <span class="muted">${pct}% CI ${esc(ci(e.gain_ci))}</span></p>`);
  }
  const checks = s.checks ?? [];
  if (checks.length > 0) {
    out.push(
      `<ul class="checks">${checks
        .map((c) => `<li>${badge(c.ok ? "ok" : "failed", c.ok ? "ok" : "bad")} ${esc(c.name)}${c.detail ? ` <span class="muted">(${esc(c.detail)})</span>` : ""}</li>`)
        .join("")}</ul>`,
    );
  }
  return out.join("\n");
}

export function stageSection(s: StageReport, stoppedHere: boolean): string {
  const out: string[] = [`<section class="stage" id="stage-${s.stage}">`];
  out.push(`<h3>Stage ${s.stage} · ${esc(s.name)}</h3>`);
  const g = s.gate;
  const dir = g.direction === "higher" ? "higher is better" : g.direction === "lower" ? "lower is better" : "";
  if (g.metric) {
    out.push(
      `<p class="gate">Gate <code>${esc(g.metric)}</code>${dir ? ` <span class="muted">(${esc(dir)})</span>` : ""}: ` +
        `${g.value === null ? "not measured" : `<b>${esc(num(g.value))}</b>`} vs threshold ${esc(bound(g.direction, g.threshold))} — ` +
        `${g.passed ? badge("passed", "ok") : badge(stoppedHere ? "failed · run stopped" : "not passed", "bad")}</p>`,
    );
  }
  const evidence = evidenceSection(s);
  if (evidence) out.push(evidence);
  if (s.trains.length > 0) out.push(`<p class="muted">Trains ${s.trains.map((t) => `<code>${esc(t)}</code>`).join(", ")}; loss terms ${esc(s.loss_terms.join(", ") || DASH)}.</p>`);
  if (s.attempt_reports.length > 0) {
    out.push(table("attempts", ["#", "outcome", "steps", "lr", "seed", "retry changed", "metric", "verdict", "wall", "restarts"], s.attempt_reports.map((a) => attemptRow(a, g.direction)), ["num", "nw", "num", "num", "num", "", "nw", "", "num", "num"]));
  }
  if (s.series.length > 0) {
    out.push(`<figure>${stageCurves(s)}${curveCaption(s)}</figure>`);
  } else if (s.attempts > 0) {
    out.push(`<p class="muted">No losses reported${s.trains.length === 0 ? " (this stage trains nothing)" : ""}.</p>`);
  }
  for (const a of s.attempt_reports) out.push(details(a));
  out.push(`</section>`);
  return out.join("\n");
}

export function transferSection(r: RunReport): string {
  if (r.transfer.length === 0) return "";
  const staged = r.transfer.some((t) => t.layer !== undefined && t.layer !== null);
  if (staged) {
    // stage 5: every codec at every split layer
    const rows = [...r.transfer].sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0) || (b.bytes_per_token ?? 0) - (a.bytes_per_token ?? 0)).map((t) => [
      `<code>${esc(t.codec)}</code>`,
      esc(num(t.layer, 3)),
      esc(t.path ?? DASH),
      esc(num(t.bytes_per_token, 4)),
      esc(num(t.kl_mean)),
      esc(t.top1 === null || t.top1 === undefined ? DASH : `${(t.top1 * 100).toFixed(2)} %`),
    ]);
    return `<section><h2>Transfer fidelity (stage 5)</h2>${table("transfer", ["codec", "after block", "path", "bytes/token", "mean KL (nats/token)", "top-1 agreement"], rows, ["", "num", "", "num", "num", "num"])}<p class="muted">The resumed continuation's logits against the run without a transfer, on held-out prompts.</p></section>`;
  }
  const rows = r.transfer.map((t) => [
    `<code>${esc(t.codec)}</code>`,
    esc(t.path ?? DASH),
    esc(num(t.bits_per_value, 3)),
    esc(bytes(t.bytes)),
    esc(num(t.cosine, 5)),
    esc(num(t.mse)),
    esc(num(t.kl)),
    esc(Object.entries(t.extra ?? {}).map(([k, v]) => `${k} ${typeof v === "number" ? num(v) : (v ?? DASH)}`).join(", ") || DASH),
  ]);
  return `<section><h2>Transfer fidelity</h2>${table("transfer", ["codec", "path", "bits/value", "packet", "cosine", "MSE", "KL (nats/token)", "other"], rows, ["", "", "num", "num", "num", "num", "num", ""])}</section>`;
}

export function benchmarkSection(r: RunReport): string {
  if (r.benchmarks.length === 0) return "";
  const rows = r.benchmarks.map((b) => [esc(b.name), `${esc(num(b.value))} ${esc(b.unit)}`, esc(b.note ?? "")]);
  return `<section><h2>Benchmarks</h2>${table("bench", ["benchmark", "value", "note"], rows, ["", "num", ""])}</section>`;
}

export function castSection(r: RunReport): string {
  if (r.cast.length === 0 && r.hosts.length === 0) return "";
  const out = [`<section><h2>Cast</h2>`];
  if (r.cast.length > 0) {
    const rows = r.cast.map((c) => [
      esc(c.role),
      `<code>${esc(c.id)}</code>`,
      esc(c.host),
      esc(c.pid ?? DASH),
      esc(c.backend ?? DASH),
      c.restarts > 0 ? `<b>${esc(c.restarts)}</b>` : "0",
      esc(c.status ?? DASH),
    ]);
    out.push(table("cast", ["role", "actor", "host", "pid", "backend", "restarts", "status"], rows, ["", "", "", "num", "", "num", ""]));
  }
  if (r.hosts.length > 0) {
    const rows = r.hosts.map((h) => [
      esc(h.name),
      esc(h.address ?? DASH),
      esc(h.cores ?? DASH),
      esc(h.memory_gb === null || h.memory_gb === undefined ? DASH : `${num(h.memory_gb, 3)} GB`),
      esc((h.backends ?? []).join(", ") || DASH),
    ]);
    out.push(table("hosts", ["host", "address", "cores", "memory", "backends"], rows, ["", "", "num", "num", ""]));
  }
  out.push(`</section>`);
  return out.join("\n");
}

export function notesSection(r: RunReport): string {
  if (r.notes.length === 0) return "";
  return `<section><h2>Notes</h2><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul></section>`;
}
