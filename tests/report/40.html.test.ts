// report.html: self-contained, well-formed, every string from the run escaped, and the
// sections the issue asks for present.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type RunSummary, createLossRecorder } from "../../actors/director/mod.js";
import { buildReport, renderHtml } from "../../report/mod.js";
import { checkMarkup, svgsOf } from "./markup.js";
import { sampleRun } from "./sample.js";

const EVIL = `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'`;

function hostileReport() {
  const summary: RunSummary = {
    run_id: `run-${EVIL}`,
    outcome: "stopped",
    wall_s: 12.5,
    resumes: 1,
    stopped: { stage: 1, kind: "gate_exhausted", reason: `stage 1 failed: ${EVIL}` },
    stages: [
      { stage: 0, name: "baseline", status: "passed", passed: true, gate_metric: "base_em_gain", metric: 1, threshold: 1, verdict: "base_em_gain 1 >= min 1", attempts: 1, retries: 0, steps: 20, trains: [], loss_terms: [], losses: null, wall_s: 1.5, restarts: 0, note: null },
      { stage: 1, name: `domain ${EVIL}`, status: "failed", passed: false, gate_metric: "heldout_gain", metric: Number.NaN, threshold: 0.02, verdict: `error: ${EVIL}`, attempts: 2, retries: 1, steps: 80, trains: ["lora"], loss_terms: ["sft"], losses: { sft: Number.NaN, total: 2 }, wall_s: 11, restarts: 1, note: EVIL },
    ],
  };
  const losses = createLossRecorder();
  for (let i = 1; i <= 30; i++) losses.add({ stage: 1, attempt: 1, step: i, losses: { sft: 3 / i, [`x${i % 2}`]: 1 } });
  return buildReport({
    summary,
    losses,
    scenario: { name: EVIL, file: `/tmp/${EVIL}.yaml`, digest: EVIL },
    cast: [{ role: EVIL, id: EVIL, host: EVIL, pid: 1, restarts: 2, backend: EVIL, status: EVIL }],
    hosts: [{ name: EVIL, address: EVIL, cores: 2, memory_gb: 8, backends: [EVIL] }],
    transfer: [{ codec: EVIL, path: EVIL, bits_per_value: 4.5, bytes: 1024, cosine: 0.99, mse: Number.NaN, kl: 0.01, extra: { [EVIL]: EVIL } }],
    benchmarks: [{ name: EVIL, value: 1, unit: EVIL, note: EVIL }],
    notes: [EVIL, "line\nbreak \u0000 control \uD800 lone surrogate"],
    generatedAt: new Date(0),
  });
}

test("report - html escapes every hostile string and stays well-formed", () => {
  const html = renderHtml(hostileReport());
  const counts = checkMarkup(html, { html: true });
  assert.equal(counts.get("script") ?? 0, 0, "no script element");
  assert.equal(counts.get("img") ?? 0, 0, "no injected element");
  assert.doesNotMatch(html, /<script|<img/i, "only escaped, as text");
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), "shown as text");
  assert.ok(html.includes("&amp;amp;"), "an entity in the input is shown literally");
  assert.doesNotMatch(html, /\u0000/);
  for (const svg of svgsOf(html)) checkMarkup(svg);
});

test("report - html is self-contained: no script, no external resource", () => {
  const html = renderHtml(hostileReport());
  assert.doesNotMatch(html, /<script|<link|<iframe|@import|url\(|src="|href="(?!#)/i);
});

test("report - html of the sample run: header, stop reason, stage table, curves, cast", async () => {
  const { report } = await sampleRun({ extras: true });
  const html = renderHtml(report);
  const counts = checkMarkup(html, { html: true });
  assert.match(html, /<h1>troupe run <code>sample-[^<]+<\/code> <span class="badge bad">stopped<\/span><\/h1>/);
  assert.match(html, /<dt>wall time<\/dt><dd>\d+ s<\/dd>/);
  assert.match(html, /The run stopped at stage 2 \(not available\)/);
  // Stage table: 3 stages that ran plus 4 the run never reached.
  const table = /<table class="stages">[\s\S]*?<\/table>/.exec(html)![0];
  assert.equal((table.match(/<tr/g) ?? []).length, 1 + 7);
  assert.equal((table.match(/<tr class="notrun">/g) ?? []).length, 4);
  assert.match(table, /badge ok">pass<\/span>[\s\S]*badge ok">pass<\/span>[\s\S]*badge warn">not available/);
  assert.match(table, /heldout_gain<\/code> <span class="muted" title="higher is better">↑<\/span><br><b>0\.0374<\/b> <span class="muted">vs ≥ 0\.02/);
  assert.match(table, /2 <span class="muted">\(1 retry\)<\/span>/);
  // One chart (stage 1; stage 0 trains nothing): 2 terms × 2 attempts.
  const svgs = svgsOf(html);
  assert.equal(svgs.length, 1);
  assert.equal(checkMarkup(svgs[0]!).get("polyline"), 4);
  assert.match(svgs[0]!, /attempt 2 · lr ×0\.5, steps ×1\.5, seed 1235/);
  assert.match(html, /6 NaN\/Infinity values dropped; the first: total at step 285 of attempt 1/);
  assert.match(html, /No losses reported \(this stage trains nothing\)/);
  assert.match(html, /<h2>Transfer fidelity<\/h2>/);
  assert.match(html, /<code>q4_0<\/code>/);
  assert.match(html, /<h2>Cast<\/h2>/);
  assert.ok((counts.get("details") ?? 0) >= 3, "evaluator details per attempt");
  // what stage 0's gate stood on: the score and its trivial reference with intervals, the gain's interval, the checks
  const s0 = /<section class="stage" id="stage-0">[\s\S]*?<\/section>/.exec(html)![0];
  assert.match(s0, /<table class="evidence">[\s\S]*<b>base<\/b>[\s\S]*<b>0\.60<\/b>[\s\S]*\[0\.50, 0\.69\][\s\S]*constant <span class="badge warn">best reference<\/span>[\s\S]*0\.20[\s\S]*always &quot;no&quot;/);
  assert.match(s0, /Gain over <code>constant<\/code>: <b>0\.40<\/b> <span class="muted">95% CI \[0\.\d\d, 0\.\d\d\]<\/span>/);
  assert.match(s0, /<ul class="checks"><li><span class="badge ok">ok<\/span> a split layer found/);
  assert.equal(report.stages[0]!.evidence?.against, "constant");
  assert.equal(report.stages[0]!.attempt_reports[0]!.evidence?.gain, report.stages[0]!.metric);
});
