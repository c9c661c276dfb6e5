// troupe chaos kill-director (its default: stage 2, the oracle queue about half done) and
// kill-oracle (between storing a label batch and acknowledging it) on tiny-agp.yaml: real
// processes, kill -9, one harness nats-server for the file (the tiny base is pretrained once, or
// found among the bases the other files of the run pretrained: tests/harness/bases.ts).
// Every label batch written once; without the stream's dedup the duplicate counter moves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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

async function drill(args: string[]): Promise<{ code: number | null; d: Record<string, any> }> {
  const out = mkdtempSync(join(tmpdir(), "troupe-kl-"));
  try {
    const r = await troupe(["chaos", ...args, "--json", "--out-dir", out, "--nats", env.nats.url]);
    assert.ok(r.stdout.trim().startsWith("{"), r.stdout + r.stderr.slice(-3000));
    return { code: r.code, d: JSON.parse(r.stdout) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test("chaos - kill -9 the director with stage 2's oracle queue about half done: it resumes at stage 2, every label batch written once (#9)", async () => {
  const { code, d } = await drill(["kill-director"]);
  assert.equal(code, 0, JSON.stringify(d));
  assert.deepEqual([d.killed_stage, d.resumed_stage, d.resumes], [2, 2, 1]);
  assert.ok(d.labels_at_kill >= d.labels_expected / 2 && d.labels_at_kill < d.labels_expected, `killed with ${d.labels_at_kill} of ${d.labels_expected} stored`);
  assert.equal(d.labels_written, d.labels_expected);
  assert.equal(d.duplicates, 0);
  assert.equal(d.outcome, "done");
});
