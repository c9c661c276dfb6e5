import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { startSupervisor } from "../../actors/mod.js";
import { ChaosJob, checkResults, ensureResultsStream, jobId, jobTensor, resultsStream } from "../../actors/chaos/jobs.js";
import { openWorkQueue } from "../../hosts/mod.js";
import { check, nextReconnect, startNats, uniqueName } from "../harness/mod.js";

test("nats restart - a supervised worker reconnects and its queue resumes with nothing lost", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const jsm = await jetstreamManager(nc);
  const run = uniqueName("r");
  const JOBS = 300;
  const config = { ackWaitMs: 1000, workMs: 4 };
  await ensureResultsStream(jsm, run);
  const q = await openWorkQueue(nc, ChaosJob, { run, ackWaitMs: config.ackWaitMs, maxAttempts: 10, backoffMs: [200, 500, 1000] });
  for (let n = 0; n < JOBS; n += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.submit(jobId(n + i), { n: n + i, x: jobTensor(n + i) })));
  }
  const sup = startSupervisor({ run, host: "testhost", natsUrl: nats.url, nc, children: [{ role: "chaos-worker", id: "w", config }] });
  try {
    await sup.ready();
    const pid = sup.pidOf("chaos-worker", "w");
    const stored = async () => (await jsm.streams.info(resultsStream(run))).state.messages;
    await check(async () => (await stored()) >= 60, { what: "a fifth of the queue done" });

    const back = nextReconnect(nc);
    await nats.server.restart(); // same port, same store
    await back;
    const atRestart = await stored();
    assert.ok(atRestart < JOBS, `the restart happened mid-queue (${atRestart} of ${JOBS} done)`);

    await check(
      async () => {
        const info = await q.info();
        return (await stored()) === JOBS && info.pending === 0 && info.ackPending === 0;
      },
      { timeoutMs: 60_000, what: "every job done and acknowledged" },
    );
    const r = await checkResults(nc, run, JOBS);
    assert.deepEqual({ unique: r.unique, duplicated: r.duplicated, wrong: r.wrong }, { unique: JOBS, duplicated: 0, wrong: 0 });
    assert.equal((await q.info()).deadLetters, 0);
    assert.equal(sup.pidOf("chaos-worker", "w"), pid, "the actor reconnected; it was not restarted");
    assert.equal(sup.children()[0]!.restarts, 0);
  } finally {
    await sup.stop();
  }
});
