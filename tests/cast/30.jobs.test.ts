// Stage jobs over a real JetStream work queue and KV: submitting a job twice runs it once, a
// finished job is not redone, a failure or a cancel reaches the director, and an abort cancels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PermanentJobError } from "../../hosts/mod.js";
import { type JobState, type TrainJobBody, isJobCancelledError, isJobFailedError, openJobQueue, openJobStates, runJob } from "../../actors/cast/mod.js";
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
