// troupe chaos nats-blip in its small configuration: one run of the tiny scenario with the
// nats-server killed for 4 s around stage 1's last step (the outage that left a restarted
// director in stage1.training forever, #16 item 1, and where a lost `done` write or a stale
// final checkpoint would show). The full drill (3 points × 0.4 s and 4 s) is a CLI command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { troupe } from "./cli.js";

test("chaos - nats-blip: nats-server down 4 s around stage 1's last step; the run still ends done, nothing cancelled, final checkpoint at the last step (#16)", async () => {
  // guards #16 items 1-4 (acceptance: troupe chaos nats-blip --json)
  const out = mkdtempSync(join(tmpdir(), "troupe-blip-"));
  try {
    const r = await troupe(["chaos", "nats-blip", "--json", "--points", "last-step", "--outages", "4", "--out-dir", out]);
    assert.equal(r.code, 0, r.stdout + r.stderr.slice(-3000));
    const d = JSON.parse(r.stdout);
    assert.deepEqual([d.outages, d.runs, d.runs_done, d.cancelled_jobs, d.stale_final, d.failed_jobs], [1, 1, 1, 0, 0, 0]);
    const run = d.by_run[0];
    assert.equal(run.killed_in, "stage1.training");
    assert.ok(run.killed_at_step >= 275, `killed around the last step (${run.killed_at_step})`);
    assert.ok(d.max_stall_s <= 4 + 10, `moved on ${d.max_stall_s} s after the kill`);
    assert.ok(run.gates_decided);
    for (const j of run.jobs) assert.equal(j.final, j.steps, `job ${j.job}: final checkpoint at its last step`);
    assert.equal(run.curve_missing_steps, 0, "the loss curve has every step");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
