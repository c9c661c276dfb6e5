// The director's follower of a job's progress stream: points in order, and an abort ends it
// whenever it comes (guards #16 item 1: an abort that came before the consumer was open left
// a resumed director in stage1.training forever, with the job done).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ensureProgressStream, followProgress, progressPublisher } from "../../actors/cast/mod.js";
import { createStamper } from "../../protocol/mod.js";
import { check, natsForFile, startNats, uniqueName } from "../harness/mod.js";

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

test("progress - the follower keeps hearing points across a nats-server restart (#16)", async () => {
  // nats.js's ordered consumer stalled after a restart: the loss curve lost every later point
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("r");
  await ensureProgressStream(nc, run);
  const pub = progressPublisher({ nc: await nats.connect(), run, head: { jobId: "j", stage: 1, attempt: 1, steps: 60 }, delivery: 1, stamper: createStamper(run, "test"), everyMs: 0 });
  const seen: number[] = [];
  const abort = new AbortController();
  const following = followProgress(nc, run, "j", 0, (p) => seen.push(p.step), abort.signal);
  const send = async (from: number, to: number) => {
    for (let step = from; step <= to; step++) {
      pub.add({ step, loss: 1, tokens: step }, false);
      await pub.flush();
    }
  };
  try {
    await send(1, 20);
    await check(() => seen.length === 20, { what: "the points before the restart" });
    await nats.server.kill();
    await new Promise((r) => setTimeout(r, 400)); // the outage under test
    await nats.server.restart();
    await send(21, 60);
    await check(() => seen.length === 60, { timeoutMs: 20_000, what: "every point after the restart" });
    assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i + 1), "in order, none twice");
  } finally {
    abort.abort();
    await within(following, 5000, "the follower");
  }
});
