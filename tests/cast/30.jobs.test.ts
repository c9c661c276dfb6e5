// Stage jobs over a real JetStream work queue and KV: submitting a job twice runs it once, a
// finished job is not redone, a failure or a cancel reaches the director, and an abort cancels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PermanentJobError, openWorkQueue } from "../../hosts/mod.js";
import {
  type JobState, type TrainJobBody, TrainJob, cancelFromOwner, isJobCancelledError, isJobFailedError, openDirectorLease, openJobQueue, openJobStates, processJobs, runJob,
} from "../../actors/cast/mod.js";
import { check, startNats, uniqueName } from "../harness/mod.js";

function job(jobId: string): TrainJobBody {
  return {
    jobId, kind: "adapter", stage: 1, attempt: 1, lane: "l", steps: 10, lr: 1e-3, batch: 4, warmup: 0, seed: 1, checkpointEvery: 5,
    checkpoints: { bucket: "checkpoints", run: "r", stage: jobId },
  };
}

test("jobs - a job submitted twice is done once; asking again returns the stored result", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const queue = await openJobQueue(nc, run);
  const states = await openJobStates(nc, run);
  let taken = 0;
  const worker = await queue.process(async (j) => {
    taken++;
    await states.update(j.body.jobId, (p) => ({ ...(p as JobState), state: "done", step: 10, result: { steps: 10 } as never }));
  });
  try {
    const signal = new AbortController().signal;
    const [a, b] = await Promise.all([runJob(queue, states, job("j1"), { signal, pollMs: 20 }), runJob(queue, states, job("j1"), { signal, pollMs: 20 })]);
    assert.equal(a.state, "done");
    assert.equal(b.state, "done");
    const again = await runJob(queue, states, job("j1"), { signal, pollMs: 20 });
    assert.equal(again.step, 10);
    await check(async () => (await queue.info()).pending === 0 && (await queue.info()).ackPending === 0, { what: "queue drained" });
    assert.equal(taken, 1, "the duplicate submit was dropped by the queue");
  } finally {
    await worker.stop();
  }
});

test("jobs - a failed job rejects with its error; an aborted wait cancels the job durably", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const queue = await openJobQueue(nc, run);
  const states = await openJobStates(nc, run);
  const worker = await queue.process(async (j) => {
    if (j.body.jobId === "bad") {
      await states.update("bad", (p) => ({ ...(p as JobState), state: "failed", error: "lane too small" }));
      throw new PermanentJobError("lane too small");
    }
    // "slow": runs until cancelled through KV
    await check(async () => (await states.get(j.body.jobId))?.value.cancel, { timeoutMs: 15_000, what: "a cancel" });
    await states.update(j.body.jobId, (p) => ({ ...(p as JobState), state: "cancelled" }));
  });
  try {
    await assert.rejects(runJob(queue, states, job("bad"), { signal: new AbortController().signal, pollMs: 20 }), (e) => isJobFailedError(e) && /lane too small/.test(e.message));
    const abort = new AbortController();
    const waiting = runJob(queue, states, job("slow"), { signal: abort.signal, pollMs: 20 });
    await check(async () => (await states.get("slow"))?.value.state === "queued", { what: "the job recorded" });
    abort.abort(new Error("attempt timed out"));
    await assert.rejects(waiting, /attempt timed out/);
    await check(async () => (await states.get("slow"))?.value.state === "cancelled", { what: "the worker saw the cancel" });
    await assert.rejects(runJob(queue, states, job("slow"), { signal: new AbortController().signal }), (e) => isJobCancelledError(e), "a cancelled job stays cancelled");
  } finally {
    await worker.stop();
  }
});

/** Rejects if `p` has not settled within `ms` (a wait that would otherwise go on forever). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

test("jobs - a dead-lettered job is recorded failed, so the director's wait ends (#16 item 7)", async () => {
  // guards #16 item 7: a job whose worker never recorded its failure left the director polling
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const queue = await openWorkQueue(nc, TrainJob, { run, maxAttempts: 2, backoffMs: [50], ackWaitMs: 2000 });
  const states = await openJobStates(nc, run);
  const worker = await processJobs(queue, states, async () => {
    throw new Error("out of memory (its failed state was never written)");
  });
  try {
    await assert.rejects(
      bounded(runJob(queue, states, job("doomed"), { signal: new AbortController().signal, pollMs: 20 }), 15_000, "the director"),
      (e) => isJobFailedError(e) && /dead-lettered \(failed\) after 2 deliveries: out of memory/.test(e.message),
    );
    assert.equal((await queue.info()).deadLetters, 1);
  } finally {
    await worker.stop();
  }
});

test("jobs - a cancel asked while NATS is down lands after the reconnect, not dropped (#16 item 7)", async () => {
  // guards #16 item 7: a failed cancel write was swallowed and the old attempt's job ran on
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const queue = await openJobQueue(nc, run);
  const states = await openJobStates(nc, run);
  const worker = await processJobs(queue, states, async (j) => {
    await check(async () => (await states.get(j.body.jobId))?.value.cancel, { timeoutMs: 30_000, what: "a cancel" });
    await states.update(j.body.jobId, (p) => ({ ...(p as JobState), state: "cancelled" }));
  });
  try {
    const abort = new AbortController();
    const waiting = runJob(queue, states, job("slow"), { signal: abort.signal, pollMs: 20, epoch: 3 });
    await check(async () => (await states.get("slow"))?.value.state === "queued", { what: "the job recorded" });
    await nats.server.kill();
    abort.abort(new Error("attempt timed out"));
    await new Promise((r) => setTimeout(r, 400)); // the outage under test
    await nats.server.restart();
    await assert.rejects(bounded(waiting, 20_000, "the aborted wait"), /attempt timed out/);
    const s = await check(async () => (await states.get("slow"))?.value.state === "cancelled" && (await states.get("slow"))?.value, { timeoutMs: 20_000, what: "the worker saw the cancel" });
    assert.deepEqual([s.cancel, s.cancelEpoch], ["attempt timed out", 3], "the cancel carries the asking director's epoch");
  } finally {
    await worker.stop();
  }
});

test("jobs - a cancel counts only from the director that owns the run now (#16 item 2)", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const lease = await openDirectorLease(nc, run, "trainer");
  assert.equal(await cancelFromOwner(lease, 0), true, "no director yet: nothing to fence against");
  const first = await (await openDirectorLease(nc, run, "troupe.x.director.0")).acquire();
  assert.equal(await cancelFromOwner(lease, first.epoch), true);
  const second = await (await openDirectorLease(nc, run, "troupe.x.director.1")).acquire();
  assert.equal(second.epoch, first.epoch + 1);
  assert.equal(await cancelFromOwner(lease, first.epoch), false, "the displaced director's cancel is refused");
  assert.equal(await cancelFromOwner(lease, null), false, "a cancel without an epoch is refused once a director owns the run");
  assert.equal(await cancelFromOwner(lease, second.epoch), true);
});
