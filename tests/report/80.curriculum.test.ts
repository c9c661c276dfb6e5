// The report's stage 2-6 sections, read from the stages' attempt details: stage 5's fidelity
// rows per codec and split layer, stage 2's route accuracy against its baselines and the
// vitality calibration plot, and what the curriculum bought (stage 6's routed vs full depth of
// the weights the run ends with) — and a run that saved nothing says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { architectureOf, calibrationOf, renderHtml, routeOf, transferRowsOf, type AttemptReport, type RunReport, type StageReport } from "../../report/mod.js";

const arch = (mean: number, tr: number, tf: number, er: number, ef: number) => ({ mean_layers_per_token: mean, full_layers: 4, tokens_per_s_routed: tr, tokens_per_s_full: tf, em_routed: er, em_full: ef, prompts: 250, rounds: 3 });

function attempt(outcome: string, details: Record<string, unknown>, metric: number | null = 1): AttemptReport {
  return { attempt: 1, outcome, planned_steps: 1, steps: 1, lr: null, seed: 1, changes: {}, metric, threshold: 0, verdict: null, error: null, losses_first: null, losses_last: null, losses_min: {}, wall_s: 1, restarts: 0, checkpoint: null, details: details as never };
}

function stage(n: number, status: string, attempts: AttemptReport[]): StageReport {
  return { stage: n, name: `s${n}`, status, passed: status === "passed", attempt_reports: attempts } as unknown as StageReport;
}

const stages = (s6: string, before: object, after: object): StageReport[] => [
  stage(2, "passed", [attempt("passed", {
    score: { value: 0.92 }, named: { value: 0.85 }, trivial: { value: 0.6 }, macro_f1: 0.7, entropy_macro_f1: 0.5, majority_macro_f1: 0.2, tokens: 900,
    vitality: { ece: 0.04, dead_auroc: 0.9, dead_auroc_entropy: 0.7 },
    layers: {
      "1": { vitality: { ece: 0.05, calibration: [{ lo: 0, confidence: 0.05, accuracy: 0.1, count: 10 }, { lo: 0.1, confidence: 0.15, accuracy: 0, count: 0 }, { lo: 0.9, confidence: 0.95, accuracy: 0.93, count: 400 }] } },
      "2": { vitality: { ece: 0.02, calibration: [[0.8, 0.85, 0.8, 30]] } },
    },
  })]),
  stage(5, "passed", [attempt("passed", { fidelity: [
    { codec: "raw-f32", layer: 1, bytes_per_token: 256.1, payload_bytes_per_token: 256, kl_mean: 0, kl_max: 0, top1: 1, tokens: 600 },
    { codec: "learned", layer: 1, bytes_per_token: 32.1, payload_bytes_per_token: 32, kl_mean: 0.0009, kl_max: 0.02, top1: 0.992, tokens: 600 },
  ] })]),
  stage(6, s6, [attempt(s6 === "passed" ? "passed" : "gate_failed", { before, after })]),
];

test("report - transfer rows per codec and split layer, route vs baselines, calibration bins (empty ones left out)", () => {
  const s = stages("passed", arch(1.8, 1000, 400, 0.77, 0.78), arch(1.7, 1100, 400, 0.78, 0.78));
  const t = transferRowsOf(s);
  assert.deepEqual(t.map((r) => [r.codec, r.layer, r.bytes_per_token, r.kl_mean, r.top1]), [["raw-f32", 1, 256.1, 0, 1], ["learned", 1, 32.1, 0.0009, 0.992]]);
  const r = routeOf(s)!;
  assert.deepEqual([r.accuracy, r.entropy_accuracy, r.majority_accuracy, r.vitality_ece], [0.92, 0.85, 0.6, 0.04]);
  const c = calibrationOf(s);
  assert.deepEqual(c.map((x) => [x.layer, x.bins.length]), [[1, 2], [2, 1]]);
  assert.deepEqual(c[0]!.bins[1], { lower: 0.9, confidence: 0.95, accuracy: 0.93, count: 400 });
});

test("report - on hosts, stage 5's rows on both paths: same host (the encoder's host) and cross host, with whether each matched bit for bit", () => {
  const fidelity = [{ codec: "raw-f32", layer: 1, bytes_per_token: 256.1, payload_bytes_per_token: 256, kl_mean: 0, kl_max: 0, top1: 1, tokens: 600 }, { codec: "int4", layer: 1, bytes_per_token: 36.1, payload_bytes_per_token: 36, kl_mean: 0.002, kl_max: 0.02, top1: 0.95, tokens: 600 }];
  const cross = [
    { codec: "raw-f32", layer: 1, encoder_host: "h0", decoder_host: "h1", bytes_per_token: 256.1, kl_mean: 0, top1: 1, tokens: 600, same_host_kl_mean: 0, same_host_top1: 1, identical: true, kl_max_abs_diff: 0, top1_diff: 0, round_trip_ms: 40 },
    { codec: "int4", layer: 1, encoder_host: "h0", decoder_host: "h1", bytes_per_token: 36.1, kl_mean: 0.0021, top1: 0.95, tokens: 600, same_host_kl_mean: 0.002, same_host_top1: 0.95, identical: false, kl_max_abs_diff: 1e-4, top1_diff: 0, round_trip_ms: 40 },
  ];
  const t = transferRowsOf([stage(5, "passed", [attempt("passed", { fidelity, cross_host: cross, path: "ignored on hosts" })])]);
  assert.deepEqual(t.map((r) => [r.codec, r.path, r.kl_mean, r.extra?.same_host ?? null]), [
    ["raw-f32", "same host (h0)", 0, null],
    ["int4", "same host (h0)", 0.002, null],
    ["raw-f32", "cross host (h0 → h1)", 0, "bit-exact"],
    ["int4", "cross host (h0 → h1)", 0.0021, "differs"],
  ]);
  // one machine: the rows keep the stage's own path, and there is no cross-host row
  const one = transferRowsOf([stage(5, "passed", [attempt("passed", { fidelity, path: "same host: transfer encoder → packet over NATS → transfer decoder" })])]);
  assert.deepEqual(one.map((r) => r.path), ["same host: transfer encoder → packet over NATS → transfer decoder", "same host: transfer encoder → packet over NATS → transfer decoder"]);
});

test("report - what the curriculum bought: the weights the run ends with; a rollback measures the ones before stage 6", () => {
  const before = arch(1.8, 1000, 400, 0.77, 0.78);
  const after = arch(1.7, 1100, 400, 0.78, 0.78);
  const kept = architectureOf(stages("passed", before, after))!;
  assert.equal(kept.mean_layers_per_token, 1.7);
  assert.match(kept.weights, /after the joint finetune/);
  const back = architectureOf(stages("rolled_back", before, after))!;
  assert.equal(back.mean_layers_per_token, 1.8);
  assert.match(back.weights, /rolled back/);
  assert.ok(Math.abs(back.depth_saved! - 0.55) < 1e-9 && back.speedup === 2.5 && Math.abs(back.em_drop! - 0.01) < 1e-9);
});

function page(s: StageReport[]): string {
  const r = { format: "troupe-report/1", generated_at: new Date(0).toISOString(), run_id: "r", outcome: "done", wall_s: 1, resumes: 0, scenario: null, stages: [], cast: [], hosts: [], transfer: transferRowsOf(s), route: routeOf(s), calibration: calibrationOf(s), architecture: architectureOf(s), benchmarks: [], notes: [] } as unknown as RunReport;
  return renderHtml(r);
}

test("report.html - the route, calibration and transfer sections, and 'What the curriculum bought' last, with its verdict", () => {
  const yes = page(stages("passed", arch(1.8, 1000, 400, 0.77, 0.78), arch(1.7, 1100, 400, 0.78, 0.78)));
  for (const h of ["Route head (stage 2)", "vitality head · calibration", "Transfer fidelity (stage 5)", "What the curriculum bought"]) assert.ok(yes.includes(h), h);
  assert.ok(yes.lastIndexOf("<section>") === yes.indexOf("<section><h2>What the curriculum bought"), "the last section");
  assert.match(yes, /Yes: the router leaves 57\.5 % of the blocks unrun/);
  // no depth saved, or slower, or exact match fallen: the page says not on this run
  assert.match(page(stages("passed", arch(4, 400, 400, 0.78, 0.78), arch(4, 400, 400, 0.78, 0.78))), /Not on this run: no depth saved/);
  assert.match(page(stages("passed", arch(2, 300, 400, 0.78, 0.78), arch(2, 300, 400, 0.78, 0.78))), /Not on this run: no faster than full depth/);
  assert.match(page(stages("passed", arch(2, 800, 400, 0.7, 0.78), arch(2, 800, 400, 0.7, 0.78))), /Not on this run: exact match fell more than 0.02/);
});
