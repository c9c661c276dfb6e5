// The director's follower of a job's progress stream: points in order, and an abort ends it
// whenever it comes (guards #16 item 1: an abort that came before the consumer was open left
// a resumed director in stage1.training forever, with the job done).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ensureProgressStream, followProgress, progressPublisher } from "../../actors/cast/mod.js";
import { createStamper } from "../../protocol/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

/** Resolves with how long `p` took, or rejects if it takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)))]);
  clearTimeout(timer);
  return Date.now() - t0;
}

async function publishedJob(run: string, jobId: string, steps: number): Promise<void> {
  await ensureProgressStream(env.nc, run);
  const pub = progressPublisher({ nc: env.nc, run, head: { jobId, stage: 1, attempt: 1, steps }, delivery: 1, stamper: createStamper(run, "test") });
  for (let step = 1; step <= steps; step++) pub.add({ step, loss: 1 / step, tokens: step * 10 }, step === steps);
  await pub.flush();
}

test("progress - the follower hears every point after `after`, in order, until aborted", async () => {
  const run = uniqueName("r");
  await publishedJob(run, "s1-a1", 20);
  const seen: number[] = [];
  const abort = new AbortController();
  const following = followProgress(env.nc, run, "s1-a1", 5, (p) => {
    seen.push(p.step);
    if (p.step === 20) abort.abort();
  }, abort.signal);
  await within(following, 10_000, "the follower");
  assert.deepEqual(seen, Array.from({ length: 15 }, (_, i) => i + 6));
});

test("progress - an abort before the consumer is open ends the follower at once (#16 item 1)", async () => {
  const run = uniqueName("r");
  await publishedJob(run, "s1-a1", 300); // the job is over: the stored curve reaches the last step
  for (let i = 0; i < 5; i++) {
    const abort = new AbortController();
    const following = followProgress(env.nc, run, "s1-a1", 300, () => undefined, abort.signal);
    abort.abort(); // while followProgress awaits its consumer
    assert.ok((await within(following, 5000, "an aborted follower")) < 5000);
  }
  const already = new AbortController();
  already.abort();
  await within(followProgress(env.nc, run, "s1-a1", 0, () => undefined, already.signal), 5000, "a follower aborted before it started");
});
