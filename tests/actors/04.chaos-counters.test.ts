// The counters of `troupe chaos kill-actor` and `chaos fuzz` can move: with deduplication off
// a killed worker's result is stored twice, a job that never completes is counted as lost
// after a bounded wait instead of ending the run in a timeout, a fuzz table that expects the
// wrong code is caught, and `chaos kill-trainer`'s resume point is read from the progress
// stream, independently of the trainer's record. guards #14
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFuzz } from "../../actors/chaos/fuzz.js";
import { runKillActor } from "../../actors/chaos/kill-actor.js";
import { followProgressTrail } from "../../actors/chaos/progress-trail.js";
import { ensureProgressStream, progressPublisher } from "../../actors/cast/mod.js";
import { createStamper } from "../../protocol/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";

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

test("chaos counters - the progress trail says where each delivery of a job resumed, from what was published", async () => {
  const run = uniqueName("trail");
  const stamper = createStamper(run, `troupe.${run}._client.test`);
  const head = { jobId: "s1-a1", stage: 1, attempt: 1, steps: 200 };
  const publish = async (delivery: number, from: number, to: number) => {
    const p = progressPublisher({ nc: env.nc, run, head, delivery, stamper });
    for (let step = from; step <= to; step++) p.add({ step, loss: 1 / step, tokens: 32 }, step === to);
    await p.flush();
  };
  await ensureProgressStream(env.nc, run);
  const trail = await followProgressTrail(env.nc, run, "s1-a1");
  await publish(1, 1, 130); // killed at 130, after the checkpoint at 100
  await publish(2, 101, 200); // the restarted trainer resumed from 100
  await check(() => trail.deliveries().at(-1)?.last === 200, { what: "the trail to reach step 200" });
  await trail.stop();
  assert.deepEqual(trail.deliveries().map((d) => [d.delivery, d.first, d.last]), [[1, 1, 130], [2, 101, 200]]);
  assert.deepEqual(trail.resumedFrom(), [100]);
  // the other way: a trainer that started over would show 0, not its record's 100
  const fresh = uniqueName("trail");
  await ensureProgressStream(env.nc, fresh);
  const again = await followProgressTrail(env.nc, fresh, "s1-a1");
  const p1 = progressPublisher({ nc: env.nc, run: fresh, head, delivery: 1, stamper: createStamper(fresh, `troupe.${fresh}._client.test`) });
  p1.add({ step: 1, loss: 1, tokens: 32 }, true);
  await p1.flush();
  const p2 = progressPublisher({ nc: env.nc, run: fresh, head, delivery: 2, stamper: createStamper(fresh, `troupe.${fresh}._client.test`) });
  p2.add({ step: 1, loss: 1, tokens: 32 }, true);
  await p2.flush();
  await check(() => again.deliveries().length === 2, { what: "both deliveries" });
  await again.stop();
  assert.deepEqual(again.resumedFrom(), [0]);
});
