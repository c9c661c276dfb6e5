import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

/** Runs the CLI; resolves with its exit code, stdout and stderr. */
function troupe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function json(out: { code: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(out.code, 0, out.stderr.slice(-2000));
  const lines = out.stdout.trim().split("\n");
  assert.equal(lines.length, 1, "stdout is exactly one JSON document");
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

test("cli - chaos kill-actor: killed 3 times mid-queue, work repeated and counted, nothing lost, no result duplicated", async () => {
  // a kill lands just after a stored result; whether the worker had already started its next job
  // then is timing (on a loaded machine it may not have): up to 3 drills, until one cut a job short
  let r: Record<string, unknown> = {};
  for (let tries = 0; tries < 3 && !((r.interrupted_executions as number) >= 1); tries++) {
    r = json(await troupe(["chaos", "kill-actor", "--json", "--jobs", "300", "--kills", "3"]));
  }
  assert.equal(r.jobs, 300);
  assert.equal(r.kills, 3);
  assert.ok((r.restarts as number) >= 3);
  assert.equal(r.completed, 300);
  assert.equal(r.lost, 0);
  // guards #14: every execution is counted; each kill lands just after a stored result, with a job in flight
  assert.ok((r.interrupted_executions as number) >= 1, `interrupted ${r.interrupted_executions}`);
  assert.ok((r.duplicated_executions as number) >= (r.interrupted_executions as number), "every execution cut short ran again");
  assert.equal(r.executions, 300 + (r.duplicated_executions as number));
  assert.equal(r.results, 300);
  assert.equal(r.duplicated_results, 0);
  assert.equal(r.wrong_results, 0);
  assert.equal(r.worker_processes, 4, "results came from four different worker processes");
  assert.ok(Number.isFinite(r.restart_ms_p95));
});

test("cli - chaos fuzz: every valid message handled, every other refused with its code from the table, no crash", async () => {
  const r = json(await troupe(["chaos", "fuzz", "--json", "--messages", "3000", "--seed", "7"]));
  const flips = r.bitflip as { sent: number; handled: number; rejected: number };
  assert.equal(r.sent, 3000);
  assert.equal(r.crashes, 0);
  assert.equal(r.valid_handled, r.valid);
  assert.equal(r.rejected, 3000 - (r.valid as number) - flips.sent);
  // guards #14: the expected counts are the table's (category -> code), not the decoder's own verdicts
  const cats = r.by_category as Record<string, { sent: number }>;
  assert.deepEqual(r.expected_rejected_by_code, {
    MALFORMED: cats.truncated!.sent, VERSION: cats.wrong_version!.sent, SHAPE: cats.wrong_shape!.sent, NAN: cats.nan!.sent, OVERSIZE: cats.oversize!.sent,
  });
  assert.deepEqual(r.rejected_by_code, r.expected_rejected_by_code);
  assert.deepEqual(r.mismatched_codes, []);
  assert.equal(r.checksum_ok, true);
  for (const c of ["truncated", "wrong_version", "wrong_shape", "nan", "oversize", "bitflip"]) assert.ok(cats[c]!.sent > 0, `${c} messages were sent`);
  assert.ok(flips.sent > 0 && flips.handled + flips.rejected === flips.sent, JSON.stringify(flips));
});

test("cli - demo: four actor processes, every result verified", async () => {
  const r = json(await troupe(["demo", "--json", "--jobs", "60"]));
  assert.equal(r.ok, true);
  assert.equal(r.actors, 4);
  assert.equal(r.verified, 60);
  assert.equal(r.wrong, 0);
  assert.equal(Object.values(r.by_worker as Record<string, number>).reduce((a, b) => a + b, 0), 60);
});

test("cli - bench protocol reports both ratios with their peers (speed is not asserted here)", async () => {
  const r = json(await troupe(["bench", "protocol", "--json", "--calls", "200", "--codec-ms", "50"]));
  for (const k of ["tensor_codec_GBps", "memcpy_GBps", "ratio", "call_p50_us", "call_p99_us", "nats_raw_p50_us"]) {
    assert.ok(typeof r[k] === "number" && (r[k] as number) > 0, `${k} = ${r[k]}`);
  }
});

test("cli - bad option values are usage errors (exit 2)", async () => {
  const r = await troupe(["chaos", "fuzz", "--messages", "many"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--messages must be an integer/);
  assert.equal((await troupe(["demo", "--nats", "not a url"])).code, 2);
});
