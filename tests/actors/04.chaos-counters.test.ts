// The counters of `troupe chaos kill-actor` and `chaos fuzz` can move: with deduplication off
// a killed worker's result is stored twice, a job that never completes is counted as lost
// after a bounded wait instead of ending the run in a timeout, and a fuzz table that expects
// the wrong code is caught. guards #14
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFuzz } from "../../actors/chaos/fuzz.js";
import { runKillActor } from "../../actors/chaos/kill-actor.js";
import { natsForFile } from "../harness/mod.js";

const env = natsForFile();

test("chaos counters - without deduplication a kill between storing a result and acking it stores the result twice", async () => {
  // every job waits 250 ms between its stored result and its ack; each kill lands just after a
  // result, so inside that window: the job runs again and its result is sent again
  const r = await runKillActor({ natsUrl: env.nats.url, jobs: 24, kills: 2, dedup: false, holdAckMs: 250 });
  assert.equal(r.dedup, false);
  assert.equal(r.kills, 2);
  assert.ok(r.duplicated_results > 0, `duplicated_results ${r.duplicated_results}`);
  assert.equal(r.results, r.completed + r.duplicated_results, "every stored result is a job's first or a repeat");
  assert.ok(r.duplicated_executions >= r.duplicated_results, "a result repeats only when its job ran again");
  assert.equal(r.executions, r.jobs + r.duplicated_executions);
  assert.deepEqual([r.completed, r.lost, r.wrong_results], [24, 0, 0]);
});

test("chaos counters - a poison job and a job that never finishes are reported lost after a bounded wait", async () => {
  const t0 = Date.now();
  const r = await runKillActor({ natsUrl: env.nats.url, jobs: 20, kills: 0, poison: [7], stall: [19], settleMs: 3000 });
  assert.equal(r.lost, 2);
  assert.equal(r.completed, 18);
  assert.equal(r.dead_letters, 1, "the poison job was dead-lettered");
  assert.equal(r.settle_timed_out, true, "the stalled job kept the queue from draining");
  assert.ok(r.settle_ms >= 3000 && Date.now() - t0 < 60_000, `${r.settle_ms} ms`);
  assert.equal(r.interrupted_executions, 2, "both were started and never finished");
});

test("chaos counters - fuzz compares the actor's refusals with its table, so a wrong table is caught", async () => {
  const right = await runFuzz({ natsUrl: env.nats.url, messages: 600, seed: 3 });
  assert.deepEqual(right.mismatched_codes, []);
  const wrong = await runFuzz({ natsUrl: env.nats.url, messages: 600, seed: 3, expect: { nan: "SHAPE" } });
  assert.deepEqual(wrong.mismatched_codes, ["NAN", "SHAPE"]);
  assert.deepEqual(wrong.rejected_by_code, right.rejected_by_code, "the actor did the same; only the expectation changed");
});
