import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PermanentJobError, connectNats, openWorkQueue } from "../../hosts/mod.js";
import { defineMessage, t } from "../../protocol/mod.js";
import { check, deferred, natsForFile, uniqueName } from "../harness/mod.js";

const Square = defineMessage("square", t.object({ n: t.int() }));
const env = natsForFile();

test("workqueue - a job id submitted twice is stored once", async () => {
  const q = await openWorkQueue(env.nc, Square, { run: uniqueName("r") });
  const a = await q.submit("job-1", { n: 1 });
  const b = await q.submit("job-1", { n: 1 });
  assert.equal(a.duplicate, false);
  assert.equal(b.duplicate, true);
  assert.equal((await q.info()).pending, 1);
});

test("workqueue - every job is handled once and acknowledged", async () => {
  const q = await openWorkQueue(env.nc, Square, { run: uniqueName("r") });
  for (let i = 0; i < 30; i++) await q.submit(`j${i}`, { n: i });
  const seen = new Map<string, number>();
  const w = await q.process(async (job) => {
    seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
    assert.equal(job.body.n, Number(job.id.slice(1)));
  }, { concurrency: 3 });
  await check(async () => seen.size === 30 && (await q.info()).ackPending === 0, { what: "30 jobs acked" });
  await w.stop();
  assert.deepEqual([...seen.values()].filter((c) => c !== 1), []);
  const info = await q.info();
  assert.equal(info.pending, 0);
  assert.equal(info.deadLetters, 0);
});

test("workqueue - a failing job is retried with backoff until it succeeds", async () => {
  const q = await openWorkQueue(env.nc, Square, { run: uniqueName("r"), backoffMs: [50, 100] });
  await q.submit("flaky", { n: 7 });
  const attempts: number[] = [];
  const times: number[] = [];
  const w = await q.process(async (job) => {
    attempts.push(job.attempt);
    times.push(Date.now());
    if (job.attempt < 3) throw new Error("transient");
  });
  await check(async () => attempts.length === 3 && (await q.info()).ackPending === 0, { what: "third attempt acked" });
  await w.stop();
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.ok(times[1]! - times[0]! >= 45, "first retry waited its backoff");
  assert.ok(times[2]! - times[1]! >= 95, "second retry waited longer");
});

test("workqueue - poison jobs end in the dead-letter stream with the reason, nothing dropped", async () => {
  const q = await openWorkQueue(env.nc, Square, { run: uniqueName("r"), maxAttempts: 2, backoffMs: [20] });
  await q.submit("perm", { n: 1 });
  await q.submit("always-fails", { n: 2 });
  await env.nc.publish(q.subject, new Uint8Array([0xc1, 0x00, 0xff])); // not a message at all
  await q.submit("fine", { n: 3 });
  const done: string[] = [];
  const w = await q.process(async (job) => {
    if (job.id === "perm") throw new PermanentJobError("bad input");
    if (job.id === "always-fails") throw new Error("still broken");
    done.push(job.id);
  });
  await check(async () => (await q.info()).deadLetters === 3, { what: "3 dead letters" });
  await w.stop();
  const dl = await q.deadLetters();
  const byReason = Object.fromEntries(dl.map((d) => [d.reason, d]));
  assert.equal(byReason.permanent?.jobId, "perm");
  assert.equal(byReason.permanent?.attempts, 1);
  assert.equal(byReason.failed?.jobId, "always-fails");
  assert.equal(byReason.failed?.attempts, 2);
  assert.match(byReason.failed?.error ?? "", /still broken/);
  assert.match(byReason.undecodable?.error ?? "", /not a valid message/);
  assert.deepEqual(done, ["fine"]);
  assert.equal((await q.info()).pending, 0);
});

test("workqueue - in-progress acks keep a long job from being redelivered", async () => {
  const q = await openWorkQueue(env.nc, Square, { run: uniqueName("r"), ackWaitMs: 500 });
  await q.submit("long", { n: 1 });
  let deliveries = 0;
  const w = await q.process(async (job) => {
    deliveries++;
    // the work itself lasts three ack-wait periods
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(job.attempt, 1);
  }, { concurrency: 2 });
  await check(async () => deliveries === 1 && (await q.info()).ackPending === 0, { what: "long job acked" });
  await w.stop();
  assert.equal(deliveries, 1);
  assert.equal((await q.info()).redelivered, 0);
});

test("workqueue - a job whose every attempt crashed its worker is dead-lettered as exhausted", async () => {
  const run = uniqueName("r");
  const opts = { run, maxAttempts: 1, ackWaitMs: 300 };
  const q = await openWorkQueue(env.nc, Square, opts);
  await q.submit("crashy", { n: 1 });
  // a worker on its own connection takes the job and "crashes" (its connection dies)
  const nc2 = await connectNats(env.nats.server);
  const q2 = await openWorkQueue(nc2, Square, opts);
  const taken = deferred();
  const crashed = deferred();
  const doomed = await q2.process(async () => {
    taken.resolve();
    await crashed; // the "process" is gone; released at the end only to let the test exit
  });
  await taken;
  await nc2.close(); // the crash
  const w = await q.process(async () => assert.fail("a crashed job must not run again after its last attempt"));
  await check(async () => (await q.info()).deadLetters === 1, { what: "dead letter" });
  await w.stop();
  crashed.resolve();
  await doomed.stop();
  const [dl] = await q.deadLetters();
  assert.equal(dl?.reason, "exhausted");
  assert.equal(dl?.jobId, "crashy");
});
