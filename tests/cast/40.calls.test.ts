// The director's calls to the teacher and the evaluator survive a lost reply: a call in flight
// when NATS restarts is sent again after the reconnect, and a call nobody answers is sent
// again after the call timeout (guards #16 item 6: a lost reply stalled a stage for 10 min).
import { test } from "node:test";
import assert from "node:assert/strict";
import { callRole } from "../../actors/cast/mod.js";
import { defineActor, on, openPeer, startActor } from "../../actors/runtime/mod.js";
import { componentLogger } from "../../hosts/mod.js";
import { defineMessage, t } from "../../protocol/mod.js";
import { check, deferred, startNats, uniqueName } from "../harness/mod.js";

/** Rejects if `p` has not settled within `ms` (the old behaviour waited for a 10-minute timeout). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const Slow = defineMessage("test.slow", t.object({ n: t.int() }), t.object({ n: t.int(), call: t.int() }));

test("calls - a call whose reply is lost in a NATS restart is sent again after the reconnect", async () => {
  await using nats = await startNats();
  const run = uniqueName("r");
  const release = deferred<void>();
  let calls = 0;
  const actor = await startActor(
    defineActor({
      role: "slow",
      concurrency: 2,
      handlers: [
        on(Slow, async (body) => {
          const call = ++calls;
          if (call === 1) await release; // answers only once the server is gone: the reply is lost
          return { n: body.n, call };
        }),
      ],
    }),
    { nc: await nats.connect(), run, id: "0", heartbeatMs: 0 },
  );
  const nc = await nats.connect();
  const deps = { peer: openPeer({ nc, run }), nc, log: componentLogger("test") };
  try {
    const t0 = Date.now();
    const answer = callRole(deps, "slow", Slow, { n: 7 }, new AbortController().signal);
    await check(() => calls === 1, { what: "the call to reach the actor" });
    await nats.server.kill();
    release.resolve(); // its reply is published while disconnected: dropped
    await new Promise((r) => setTimeout(r, 400)); // the outage under test
    await nats.server.restart();
    const r = await bounded(answer, 20_000, "the call across the restart");
    assert.deepEqual(r, { n: 7, call: 2 }, "answered by the second delivery of the call");
    assert.ok(Date.now() - t0 < 15_000, `answered ${Date.now() - t0} ms after the call, not after its timeout`);
  } finally {
    await actor.stop();
  }
});

test("calls - a call nobody answers is sent again after the call timeout, and an abort ends the wait", async () => {
  await using nats = await startNats();
  const run = uniqueName("r");
  let calls = 0;
  const actor = await startActor(
    defineActor({
      role: "slow",
      concurrency: 2,
      handlers: [
        on(Slow, async (body) => {
          const call = ++calls;
          if (call === 1) await new Promise(() => undefined); // never answers
          return { n: body.n, call };
        }),
      ],
    }),
    { nc: await nats.connect(), run, id: "0", heartbeatMs: 0 },
  );
  const nc = await nats.connect();
  const deps = { peer: openPeer({ nc, run }), nc, log: componentLogger("test"), callTimeoutMs: 300 };
  try {
    assert.deepEqual(await callRole(deps, "slow", Slow, { n: 1 }, new AbortController().signal), { n: 1, call: 2 });
    // the other way: nobody listens for this role; the retries end when the caller aborts
    const abort = new AbortController();
    const waiting = callRole(deps, "nobody", Slow, { n: 2 }, abort.signal);
    setTimeout(() => abort.abort(new Error("the attempt was abandoned")), 300);
    await assert.rejects(waiting, /abandoned/);
  } finally {
    await actor.stop(0);
  }
});
