// troupe chaos director-duel: a second director resumes the tiny run while the first still
// runs. The newer one takes the lease; the older one is fenced out and stops without being
// restarted; nothing is cancelled; the run ends done (guards #16 item 2: two directors at once
// ended the run `gate_exhausted … job … was cancelled`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { troupe } from "./cli.js";

test("chaos - director-duel: one owner at the end, nothing cancelled, the run done (#16 item 2)", async () => {
  // guards #16 item 2 (acceptance: troupe chaos director-duel --json)
  const out = mkdtempSync(join(tmpdir(), "troupe-duel-"));
  try {
    const r = await troupe(["chaos", "director-duel", "--json", "--out-dir", out]);
    assert.equal(r.code, 0, r.stdout + r.stderr.slice(-3000));
    const d = JSON.parse(r.stdout);
    assert.deepEqual([d.owners_at_end, d.cancelled_jobs, d.outcome], [1, 0, "done"]);
    assert.equal(d.rival_started_in, "stage1.training");
    assert.deepEqual(d.lease_epochs.map((l: { epoch: number }) => l.epoch), [1, 2]);
    assert.match(d.lease_epochs[1].holder, /\.director\.1$/);
    assert.deepEqual(d.snapshot_writers_after_takeover.map((w: string) => w.split(".").slice(-2).join(".")), ["director.1"]);
    const first = d.directors.find((x: { director: string }) => x.director.startsWith("director/0@"));
    assert.deepEqual([first.exits, first.restarts], [["code 0"], 0], "the displaced director stopped for good, not restarted");
    assert.deepEqual(d.stages.map((s: { stage: number; passed: boolean }) => [s.stage, s.passed]), [[0, true], [1, true]]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
