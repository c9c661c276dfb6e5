// guards #10: Ctrl-C saves. SIGINT to `troupe train` at a random step writes a checkpoint of the
// last complete step, says how to resume and exits 130; --resume then continues with exactly
// the losses of an uninterrupted run (max_loss_diff 0). A second Ctrl-C exits at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check } from "../harness/mod.js";
import { main, root, troupe } from "./cli.js";

const STEPS = 600;

function traceOf(file: string): Map<number, number> {
  const m = new Map<number, number>();
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { step: number; loss: number };
    assert.ok(!m.has(r.step), `step ${r.step} traced once`);
    m.set(r.step, r.loss);
  }
  return m;
}

/** Starts a train and sends SIGINT `times` times once the trace holds `atStep` steps. */
async function interrupted(args: string[], trace: string, atStep: number, times: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const p = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  p.stderr.on("data", (d) => (stderr += d));
  p.stdout.on("data", (d) => (stdout += d));
  const closed = new Promise<number | null>((r) => p.on("close", (code) => r(code)));
  await check(() => traceOf(trace).size >= atStep, { timeoutMs: 120_000 });
  for (let i = 0; i < times; i++) p.kill("SIGINT");
  return { code: await closed, stderr, stdout };
}

test("interrupt - SIGINT at a random step: checkpoint of that step, exit 130, --resume continues with identical losses", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-sigint-"));
  try {
    writeFileSync(join(dir, "t.txt"), readFileSync(join(root, "README.md"), "utf8"));
    const common = ["train", "--data", join(dir, "t.txt"), "--steps", String(STEPS), "--embd", "32", "--heads", "2", "--layers", "1", "--block", "32", "--out", join(dir, "runs")];
    // only the end is checkpointed: whatever --resume finds mid-run was written by Ctrl-C
    const args = [...common, "--run", "cut", "--checkpoint-every", "0", "--trace", join(dir, "cut.trace")];
    const atStep = 10 + Math.floor(Math.random() * 200);
    const r = await interrupted(args, join(dir, "cut.trace"), atStep, 1);
    assert.equal(r.code, 130, r.stderr.slice(-2000));
    const m = /interrupted at step (\d+): saved a checkpoint of step (\d+) in (\S+); report (\S+); continue with: (troupe train .* --resume)$/m.exec(r.stderr);
    assert.ok(m, r.stderr.slice(-2000));
    const step = Number(m[1]);
    assert.equal(Number(m[2]), step, "the checkpoint is of the step it stopped at");
    assert.ok(step >= atStep && step < STEPS, `stopped at ${step}, signalled at ${atStep}`);
    assert.ok(existsSync(join(m[3]!, "manifest.json")));
    assert.equal(traceOf(join(dir, "cut.trace")).size, step, "no step after the checkpoint ran");

    // the printed command continues it
    const interruptedReport = JSON.parse(readFileSync(m[4]!.replace(/\.html$/, ".json"), "utf8"));
    assert.equal(interruptedReport.outcome, "interrupted");
    assert.equal(interruptedReport.curves.train_loss.length, step, "the report has every step up to the interruption");
    const resumeArgs = m[5]!.split(" ").slice(1);
    const resumed = await troupe([...resumeArgs, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    assert.equal(JSON.parse(resumed.stdout).resumed_from, step);

    const whole = await troupe([...common, "--run", "whole", "--trace", join(dir, "whole.trace")]);
    assert.equal(whole.code, 0, whole.stderr.slice(-2000));
    const a = traceOf(join(dir, "cut.trace"));
    const b = traceOf(join(dir, "whole.trace"));
    assert.equal(a.size, STEPS);
    let maxLossDiff = 0;
    for (const [s, loss] of b) maxLossDiff = Math.max(maxLossDiff, Math.abs(loss - a.get(s)!));
    assert.equal(maxLossDiff, 0, "max_loss_diff");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("interrupt - a second Ctrl-C exits at once with 130", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-sigint-"));
  try {
    writeFileSync(join(dir, "t.txt"), readFileSync(join(root, "README.md"), "utf8"));
    const args = ["train", "--data", join(dir, "t.txt"), "--steps", "100000", "--embd", "32", "--heads", "2", "--layers", "1", "--block", "32", "--out", join(dir, "runs"), "--trace", join(dir, "t.trace")];
    const r = await interrupted(args, join(dir, "t.trace"), 5, 2);
    assert.equal(r.code, 130, r.stderr.slice(-2000));
    assert.match(r.stderr, /Ctrl-C again to quit at once/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
