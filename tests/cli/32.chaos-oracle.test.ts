// troupe chaos kill-oracle on tiny-agp.yaml: the oracle holding a stored, unacknowledged label
// batch killed -9 (one drill per file: each is a full run, and a file has 300 s). Real
// processes, one harness nats-server for the file. Every label batch written once; without
// the stream's dedup the duplicate counter moves.
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

test("chaos - kill -9 an oracle between storing a batch and its ack: the batch comes back and is kept once (#9)", async () => {
  const { code, d } = await drill(["kill-oracle"]);
  assert.equal(code, 0, JSON.stringify(d));
  assert.ok(d.restarts >= 1, "the oracle was killed and restarted");
  assert.equal(d.labels_written, d.labels_expected);
  assert.deepEqual([d.duplicates, d.messages], [0, d.labels_expected]);
});
