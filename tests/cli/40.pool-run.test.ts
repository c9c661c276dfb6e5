// A curriculum whose teacher and evaluator run on accelerator pools runs unchanged otherwise
// and reaches the same gates (issue 11): tiny.yaml and tiny-pool.yaml on one server give the
// same baseline and the same stage-1 gain; the report carries the pools' metrics and workers.
// The quickstart with its teacher on a 2-worker pool (scenarios/quickstart-pool.yaml) runs
// with TROUPE_SLOW=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsForFile, uniqueName } from "../harness/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
const slow = process.env.TROUPE_SLOW === "1";
// one server for both runs; the tiny base shared with the other files of the run (tests/harness/bases.ts)
const env = natsForFile({ shareBases: true });

function troupe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function run(file: string, out: string, nats?: string): Promise<{ summary: Json; report: Json }> {
  const r = await troupe(["run", file, "--json", "--out-dir", out, ...(nats ? ["--nats", nats, "--run-id", uniqueName("pool")] : [])]);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const summary = JSON.parse(r.stdout);
  return { summary, report: JSON.parse(readFileSync(summary.report.json, "utf8")) };
}

const stage = (report: Json, n: number) => report.stages.find((x: Json) => x.stage === n);

test("pool run - tiny with its teacher and evaluator on pools reaches the same gates, with the same numbers, as tiny on its own kernels", async () => {
  const nats = env.nats;
  const out = mkdtempSync(join(tmpdir(), "troupe-pool-run-"));
  try {
    const local = await run(join(root, "scenarios", "tiny.yaml"), out, nats.url);
    const pooled = await run(join(root, "tests", "fixtures", "scenarios", "tiny-pool.yaml"), out, nats.url);
    assert.equal(pooled.summary.outcome, "done");
    assert.deepEqual(pooled.summary.stages.map((x: Json) => [x.stage, x.passed]), [[0, true], [1, true]]);
    // the same gates, the same numbers: stage 0's baseline and stage 1's gain
    const [l0, p0] = [stage(local.report, 0).attempt_reports[0].details, stage(pooled.report, 0).attempt_reports[0].details];
    assert.deepEqual(p0.split_layer_map, l0.split_layer_map, "the teacher's capture on the pool gives the same split-layer map");
    assert.equal(p0.baseline.exactMatch, l0.baseline.exactMatch);
    assert.ok(Math.abs(p0.baseline.loss - l0.baseline.loss) < 1e-4, `baseline loss ${p0.baseline.loss} vs ${l0.baseline.loss}`);
    assert.equal(stage(pooled.report, 1).gate.value, stage(local.report, 1).gate.value, "the same em_gain");
    // the report shows the pools: metrics as rows, workers as cast members, a note each
    const rows = pooled.report.benchmarks.map((b: Json) => b.name);
    assert.ok(rows.includes("teacher pool: requests") && rows.includes("evaluator pool: padding"), JSON.stringify(rows));
    const req = pooled.report.benchmarks.find((b: Json) => b.name === "evaluator pool: requests");
    assert.ok(req.value > 100 && /0 failed/.test(req.note), JSON.stringify(req));
    assert.equal(pooled.report.cast.filter((c: Json) => c.role === "teacher-pool").length, 2);
    assert.equal(pooled.report.cast.filter((c: Json) => c.role === "evaluator-pool").length, 1);
    assert.ok(pooled.report.notes.some((n: string) => /^The teacher runs on an accelerator pool: 2 local workers/.test(n)));
    assert.ok(!local.report.benchmarks.some((b: Json) => /pool/.test(b.name)), "a run without pools reports none");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("pool run - the quickstart with its teacher on a 2-worker pool passes stages 0 and 1", { skip: !slow && "slow: set TROUPE_SLOW=1" }, async () => {
  const out = mkdtempSync(join(tmpdir(), "troupe-qs-pool-"));
  try {
    const { summary, report } = await run(join(root, "scenarios", "quickstart-pool.yaml"), out);
    assert.equal(summary.outcome, "done");
    assert.deepEqual(summary.stages.filter((x: Json) => x.stage <= 1).map((x: Json) => x.passed), [true, true]);
    const d = stage(report, 1).attempt_reports.at(-1).details;
    assert.ok(d.adapted.byDomain.reversal.exactMatch >= 0.5);
    const teacher = report.benchmarks.find((b: Json) => b.name === "teacher pool: requests");
    assert.ok(teacher && teacher.value > 0 && /0 failed/.test(teacher.note), JSON.stringify(teacher));
    assert.equal(report.cast.filter((c: Json) => c.role === "teacher-pool").length, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
