// The oracle's label stream on a real nats-server: a batch stored twice (its oracle died
// between storing it and acknowledging the job, and the batch was labelled again) is kept once
// while the dedup by job id holds; without it the duplicate counter moves; a missing batch or a
// batch of another model fails the join with a message that names it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type OracleLabelsBody, collectLabels, ensureLabelStream, labelMessages, oracleJobId, publishLabels, readLabels } from "../../actors/cast/mod.js";
import { createStamper, fromTyped } from "../../protocol/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

/** A label batch of `m` positions at head layers [1], deterministic in (batch, by). */
function batch(stage: number, lane: string, k: number, m = 3, by = "oracle/0", normRef = [1.5]): OracleLabelsBody {
  return {
    jobId: oracleJobId(stage, lane, k),
    stage,
    lane,
    batch: k,
    from: k * 2,
    to: k * 2 + 2,
    candidates: [1],
    heads: [1],
    normRef,
    perItem: fromTyped("i32", [2], Int32Array.from([1, m - 1])),
    route: fromTyped("i32", [1, m], Int32Array.from({ length: m }, (_, i) => (k + i) % 4)),
    routeConfidence: fromTyped("f32", [1, m], new Float32Array(m).fill(0.9)),
    vitality: fromTyped("i32", [1, m], Int32Array.from({ length: m }, (_, i) => (k * 3 + i) % 4)),
    vitalityConfidence: fromTyped("f32", [1, m], new Float32Array(m).fill(0.8)),
    earliest: fromTyped("i32", [m], Int32Array.from({ length: m }, () => 1)),
    by,
    delivery: 1,
  };
}

test("labels - a batch stored again after a redelivery is kept once: no duplicate, nothing lost", async () => {
  const run = uniqueName("r");
  const stamper = createStamper(run, "test");
  await ensureLabelStream(env.nc, run);
  for (let k = 0; k < 4; k++) await publishLabels(env.nc, run, batch(2, "agp", k), { stamper });
  // batch 2's oracle died before its ack: another oracle labels it again and stores it again
  const again = await publishLabels(env.nc, run, { ...batch(2, "agp", 2, 3, "oracle/1"), delivery: 2 }, { stamper });
  assert.equal(again.duplicate, true, "the server recognised the job id");
  const read = await readLabels(env.nc, run, 2, "agp");
  assert.deepEqual([read.batches.size, read.messages, read.duplicates], [4, 4, 0]);
  assert.equal(await labelMessages(env.nc, run, 2, "agp"), 4);
  const joined = await collectLabels(env.nc, run, 2, "agp", 4);
  assert.equal(joined.positions, 12);
  assert.deepEqual(joined.by, { "oracle/0": 4 }, "the first copy counts");
  assert.deepEqual([...joined.labels.heads[0]!.route.slice(6, 9)], [2, 3, 0], "batch 2's labels land at its place");
});

test("labels - without the dedup the duplicate counter moves (the check can fail)", async () => {
  const run = uniqueName("r");
  const stamper = createStamper(run, "test");
  await ensureLabelStream(env.nc, run);
  for (let k = 0; k < 3; k++) await publishLabels(env.nc, run, batch(2, "agp", k), { stamper, dedup: false });
  await publishLabels(env.nc, run, batch(2, "agp", 1), { stamper, dedup: false });
  const read = await readLabels(env.nc, run, 2, "agp");
  assert.deepEqual([read.batches.size, read.messages, read.duplicates], [3, 4, 1]);
});

test("labels - a missing batch or one of another model fails the join, naming it", async () => {
  const run = uniqueName("r");
  const stamper = createStamper(run, "test");
  await ensureLabelStream(env.nc, run);
  await publishLabels(env.nc, run, batch(2, "agp", 0), { stamper });
  await publishLabels(env.nc, run, batch(2, "agp", 2), { stamper });
  await assert.rejects(collectLabels(env.nc, run, 2, "agp", 3), /labelled 2 of 3 batches of lane agp \(missing 1\)/);
  await publishLabels(env.nc, run, batch(2, "agp", 1, 3, "oracle/0", [9.0]), { stamper });
  await assert.rejects(collectLabels(env.nc, run, 2, "agp", 3), /label batch 1 of lane agp was made with other head layers or reference norms/);
  // other lanes and stages are apart
  assert.equal((await readLabels(env.nc, run, 2, "other")).messages, 0);
});
