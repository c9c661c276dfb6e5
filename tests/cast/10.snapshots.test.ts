// The director's SnapshotStore on JetStream KV, against a real nats-server: compare-and-set on
// the revision, a director that loses the race stops, and a run resumes from what KV holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import {
  isSnapshotConflictError,
  resumeDirector,
  startDirector,
  type PersistedDirectorSnapshot,
  type RunSummary,
} from "../../actors/director/mod.js";
import { createKvSnapshotStore } from "../../actors/cast/mod.js";
import { check, startNats, uniqueName } from "../harness/mod.js";
import { createFakeWork, hang } from "../actors/director/fake-work.js";
import { plan, stage } from "../actors/director/plans.js";

const snap = (n: number) => ({ status: "active", value: { stage0: "preparing" }, context: { n }, note: undefined }) as unknown as PersistedDirectorSnapshot;

test("kv snapshots - create, update on the current revision, and refuse a stale one", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const store = await createKvSnapshotStore(nc, run);
  assert.equal(await store.load(run), null);
  const r1 = await store.save(run, snap(1), 0);
  assert.ok(r1 > 0);
  await assert.rejects(store.save(run, snap(2), 0), (e) => isSnapshotConflictError(e) && e.expected === 0 && e.actual === r1);
  const r2 = await store.save(run, snap(2), r1);
  assert.ok(r2 > r1);
  await assert.rejects(store.save(run, snap(3), r1), (e) => isSnapshotConflictError(e) && e.actual === r2, "a second writer with the old revision loses");
  const back = await store.load(run);
  assert.deepEqual(back, { snapshot: JSON.parse(JSON.stringify(snap(2))), revision: r2 }, "JSON round trip: undefined members dropped, nothing else changed");
  const other = await createKvSnapshotStore(nc, run);
  assert.equal((await other.load(run))?.revision, r2, "another process sees the same revision");
});

test("kv snapshots - a director whose save loses the compare-and-set stops with SnapshotConflictError", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const store = await createKvSnapshotStore(nc, run);
  const work = createFakeWork();
  work.trainImpl = (_i, _p, signal) => hang(signal);
  const h = await startDirector({ runId: run, store, work, clock: new SimulatedClock(), plan: plan([stage(0)]), available: [0] });
  await check(() => work.count("train", 0) === 1, { what: "training started" });
  await h.settled();
  // another director writes the run behind this one's back
  const cur = (await store.load(run))!;
  await store.save(run, cur.snapshot, cur.revision);
  h.actor.send({ type: "train.progress", stage: 0, attempt: 1, step: 5, losses: { total: 1 } });
  const result = await h.done;
  assert.ok(isSnapshotConflictError(result), String(result));
  assert.ok(work.aborted.includes("train:0:1"), "its training was aborted");
});

test("kv snapshots - a run resumes from KV at the state it was stored in, and finishes", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const run = uniqueName("run");
  const p = plan([stage(0), stage(1, { steps: 10 })]);
  const first = createFakeWork();
  first.trainImpl = (input, _p, signal) => (input.stage === 1 ? hang(signal) : Promise.resolve({ steps: input.attempt.steps }));
  const h1 = await startDirector({ runId: run, store: await createKvSnapshotStore(nc, run), work: first, clock: new SimulatedClock(), plan: p, available: [0, 1] });
  await check(() => first.count("train", 1) === 1, { what: "stage 1 training" });
  await h1.settled();
  await h1.stop({ flush: false }); // as a kill -9 would: nothing more is stored

  const second = createFakeWork();
  const h2 = await resumeDirector({ runId: run, store: await createKvSnapshotStore(nc, run), work: second, clock: new SimulatedClock() });
  const s = (await h2.done) as RunSummary;
  assert.equal(s.outcome, "done");
  assert.equal(s.resumes, 1);
  assert.equal(second.count("prepare", 0) + second.count("train", 0), 0, "stage 0 is not redone");
  assert.deepEqual(second.trains(1).map((c) => c.attempt), [1], "stage 1 training restarts as the same attempt");
  assert.equal(s.stages.find((x) => x.stage === 1)!.restarts, 1);
});
