// guards #10: Ctrl-C during `troupe run` (SIGINT to the whole process group, as a terminal sends
// it): the cast stops, the report and the models kept so far are written, the message says the
// command that resumes it (the run is on a --nats server), exit 130; that command finishes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, natsForFile, uniqueName } from "../harness/mod.js";
import { main, root, troupe } from "./cli.js";

const env = natsForFile({ shareBases: true });

test("run interrupt - Ctrl-C in stage 1 stops the cast with exit 130 and the command that resumes it; resuming finishes the run", async () => {
  const out = mkdtempSync(join(tmpdir(), "troupe-run-int-"));
  try {
    const id = uniqueName("int");
    const p = spawn(process.execPath, [main, "run", "scenarios/tiny.yaml", "--nats", env.nats.url, "--run-id", id, "--out-dir", out], { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => p.on("close", (code) => r(code)));
    await check(() => /ev=progress stage=1 attempt=1\/\d+ step=\d+/.test(stderr), { timeoutMs: 240_000, what: "stage 1 training" });
    process.kill(-p.pid!, "SIGINT");
    const code = await closed;
    assert.equal(code, 130, stderr.slice(-3000));
    const m = /run \S+ interrupted.*; continue with: (troupe run .* --resume)$/m.exec(stderr);
    assert.ok(m, stderr.slice(-3000));
    assert.match(m[1]!, new RegExp(`--run-id ${id}`));
    const resumed = await troupe([...m[1]!.split(" ").slice(1), "--out-dir", out, "--json"]);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-3000));
    const doc = JSON.parse(resumed.stdout);
    assert.equal(doc.outcome, "done");
    assert.ok(doc.resumes >= 1, "the director resumed from its snapshot");
    assert.ok(doc.artifacts.final, "the finished run kept its models");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
