// troupe chaos kill-director | kill-trainer on the tiny scenario: real processes, kill -9, on
// one harness nats-server for the file (so the tiny base is pretrained once, not per test, and
// shared with the other files of the run: tests/harness/bases.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsForFile } from "../harness/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
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

test("chaos - kill -9 the director while stage 1 trains: it resumes at stage 1 from KV and the run finishes", async () => {
  // guards #5 (acceptance: chaos kill-director)
  const out = mkdtempSync(join(tmpdir(), "troupe-kd-"));
  try {
    const r = await troupe(["chaos", "kill-director", "--scenario", "scenarios/tiny.yaml", "--stage", "1", "--json", "--out-dir", out, "--nats", env.nats.url]);
    assert.equal(r.code, 0, r.stdout + r.stderr.slice(-3000));
    const d = JSON.parse(r.stdout);
    assert.equal(d.killed_stage, 1);
    assert.equal(d.killed_state, "stage1.training");
    assert.equal(d.resumed_stage, d.killed_stage);
    assert.ok(d.killed_at_step >= 1);
    assert.ok(d.restart_ms > 0);
    assert.equal(d.resumes, 1);
    assert.equal(d.outcome, "done");
    assert.deepEqual(d.stages.map((s: { stage: number; passed: boolean }) => [s.stage, s.passed]), [[0, true], [1, true]]);
    // the loss curve has every step: what the dead director had not saved, and what the trainer
    // did while no director listened, came back from the progress stream
    const report = JSON.parse(readFileSync(d.report, "utf8"));
    const s1 = report.stages.find((s: { stage: number }) => s.stage === 1);
    const steps = s1.series[0].terms.total.points.map((p: { step: number }) => p.step);
    assert.deepEqual(steps, Array.from({ length: s1.attempt_reports[0].planned_steps }, (_, i) => i + 1));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("chaos - kill -9 the trainer after a stage-1 checkpoint: it resumes from that checkpoint and the stage passes", async () => {
  // guards #5 (acceptance: killing the trainer mid-stage resumes from its last checkpoint)
  const out = mkdtempSync(join(tmpdir(), "troupe-kt-"));
  try {
    const r = await troupe(["chaos", "kill-trainer", "--json", "--out-dir", out, "--nats", env.nats.url]);
    assert.equal(r.code, 0, r.stdout + r.stderr.slice(-3000));
    const d = JSON.parse(r.stdout);
    assert.equal(d.killed_stage, 1);
    assert.ok(d.checkpoint_step > 0);
    assert.ok(d.resumed_from.length >= 1 && d.resumed_from[0] > 0, `resumed from ${d.resumed_from}`);
    assert.ok(d.resumed_from[0] >= d.checkpoint_step, "not older than the checkpoint that was durable at the kill");
    // guards #14: the trainer's own record agrees with what it published to the progress stream
    assert.deepEqual(d.resumed_from_stream, d.resumed_from);
    assert.equal(d.resumed_from_agrees, true);
    assert.ok(d.progress_deliveries.length >= 2, JSON.stringify(d.progress_deliveries));
    assert.equal(d.progress_deliveries[0].first, 1);
    assert.ok(d.progress_deliveries[0].last >= d.resumed_from[0], "the first delivery got at least as far as the checkpoint");
    assert.ok(d.trainer_restarts >= 1);
    const s1 = d.stages.find((s: { stage: number }) => s.stage === 1);
    assert.deepEqual([s1.passed, s1.attempts], [true, 1], "the interrupted attempt itself completed");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
