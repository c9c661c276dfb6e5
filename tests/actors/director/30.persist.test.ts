// Persistence and resume: the snapshot is stored at every transition (compare-and-set), and
// a director started again from the store continues where the old one was — including in
// the middle of training, which restarts the train call for the same stage and attempt.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DIRECTOR_CHART_VERSION,
  isDirectorSnapshotError,
  isDirectorStoppedError,
  isSnapshotConflictError,
  resumeDirector,
  startDirector,
  type RunSummary,
} from "../../../actors/director/mod.js";
import { createFakeWork, deferred, hang } from "./fake-work.js";
import { flush, launch, reach, relaunch, state, storedStates } from "./harness.js";
import { plan, stage } from "./plans.js";

function summary(v: RunSummary | Error): RunSummary {
  if (v instanceof Error) throw v;
  return v;
}

const twoStages = () => plan([stage(0), stage(1, { retry: { max: 1, backoffMs: 10_000, change: { lrMult: 0.5, stepsMult: 1, reseed: false } } })]);

test("persist - every state the chart rests in is stored, in order, ending with the final one", async () => {
  const { h, store, runId } = await launch(twoStages());
  summary(await h.done);
  assert.deepEqual(storedStates(store, runId), [
    "stage0.preparing", "stage0.training", "stage0.evaluating",
    "stage1.preparing", "stage1.training", "stage1.evaluating",
    "done",
  ]);
  const revisions = store.history(runId).map((e) => e.revision);
  assert.deepEqual(revisions, revisions.map((_, i) => i + 1), "one compare-and-set save after another");
  const last = store.history(runId).at(-1)!.snapshot;
  assert.equal(last.status, "done");
  assert.equal(last.context.outcome, "done");
});

test("persist - a director killed mid-training resumes at the same stage and attempt and finishes", async () => {
  const work = createFakeWork();
  const base = work.trainImpl;
  let firstTrain = true;
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage === 1 && firstTrain) {
      firstTrain = false;
      onProgress({ step: 40, losses: { total: 1.5 } });
      return hang(signal); // the director dies while this runs
    }
    return base(input, onProgress, signal);
  };
  const l = await launch(twoStages(), { work });
  await reach(l.h, "stage1.training");
  await l.h.settled();
  const before = l.h.context();
  await l.h.stop({ flush: false }); // kill -9: nothing more is saved
  assert.equal(state(l.h), "stage1.training");
  assert.equal(storedStates(l.store, l.runId).at(-1), "stage1.training");

  const h2 = await relaunch(l);
  assert.equal(state(h2), "stage1.training", "resumed where it was, not at stage 0");
  const s = summary(await h2.done);
  assert.equal(s.outcome, "done");
  const trains = work.calls.filter((c) => c.op === "train" && c.stage === 1);
  assert.deepEqual(trains.map((c) => c.attempt), [1, 1], "train restarted for the same attempt");
  assert.equal(work.count("prepare", 1), 1, "prepare is not repeated");
  assert.equal(work.count("train", 0), 1, "stage 0 is not repeated");
  const rec = h2.context().records[1]!;
  assert.equal(rec.attempts.length, 1, "the restart is not a new attempt");
  assert.equal(rec.attempts[0]!.restarts, 1);
  assert.equal(h2.context().resumes.length, 1);
  assert.deepEqual(h2.context().records[0], before.records[0], "the record survives the JSON round trip");
  assert.equal(s.resumes, 1);
  assert.equal(s.stages[1]!.restarts, 1);
});

test("persist - a kill right after a transition resumes from the last stored state", async () => {
  const work = createFakeWork();
  const gate = deferred();
  const base = work.trainImpl;
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage === 1) await Promise.race([gate.promise, hang(signal)]);
    return base(input, onProgress, signal);
  };
  const l = await launch(twoStages(), { work });
  await reach(l.h, "stage1.training");
  await l.h.stop({ flush: false }); // no settle: the last save may not have landed
  const stored = storedStates(l.store, l.runId).at(-1)!;
  assert.ok(["stage1.preparing", "stage1.training"].includes(stored), stored);
  gate.resolve();
  const h2 = await relaunch(l);
  assert.equal(state(h2), stored);
  assert.equal(summary(await h2.done).outcome, "done");
  assert.equal(work.count("train", 0), 1);
});

test("persist - resuming during backoff waits out the rest of the backoff on the clock", async () => {
  const work = createFakeWork();
  work.metric = (s, a, input) => (s === 1 && a === 1 ? -1 : input.gate.threshold!);
  const l = await launch(twoStages(), { work });
  await reach(l.h, "stage1.backoff");
  await l.h.settled();
  await l.h.stop({ flush: false });
  l.clock.increment(4000); // the director was down for 4 s
  const h2 = await relaunch(l);
  assert.equal(state(h2), "stage1.backoff");
  l.clock.increment(5999);
  await flush();
  assert.equal(state(h2), "stage1.backoff");
  assert.equal(work.count("prepare", 1), 1);
  l.clock.increment(1);
  assert.equal(summary(await h2.done).outcome, "done");
  assert.equal(work.count("prepare", 1), 2);
});

test("persist - a save that loses the compare-and-set stops the director with SnapshotConflictError", async () => {
  const work = createFakeWork();
  const release = deferred();
  work.trainImpl = async (input) => {
    await release.promise;
    return { steps: input.attempt.steps };
  };
  const l = await launch(plan([stage(0)]), { work });
  await reach(l.h, "stage0.training");
  await l.h.settled();
  const stored = (await l.store.load(l.runId))!;
  await l.store.save(l.runId, stored.snapshot, stored.revision); // another director wrote
  release.resolve();
  const result = await l.h.done;
  assert.ok(isSnapshotConflictError(result), String(result));
  assert.equal(l.h.actor.getSnapshot().status, "stopped");
  assert.equal(work.count("evaluate", 0), 0, "the fenced director does no more work");
});

test("persist - start refuses a run that has a snapshot; resume refuses one that has none", async () => {
  const l = await launch(plan([stage(0)]));
  await l.h.done;
  const again = startDirector({ runId: l.runId, store: l.store, work: l.work, clock: l.clock, plan: plan([stage(0)]), available: [0] });
  await assert.rejects(again, (e) => isDirectorSnapshotError(e) && /already has a stored snapshot/.test((e as Error).message));
  const none = resumeDirector({ runId: "no-such-run", store: l.store, work: l.work, clock: l.clock });
  await assert.rejects(none, (e) => isDirectorSnapshotError(e) && /no stored snapshot/.test((e as Error).message));
});

test("persist - resume refuses a snapshot from another chart version, saying what to do", async () => {
  const l = await launch(plan([stage(0)]));
  await l.h.done;
  const stored = (await l.store.load(l.runId))!;
  const old = { ...stored.snapshot, context: { ...stored.snapshot.context, version: DIRECTOR_CHART_VERSION + 1 } };
  await l.store.save(l.runId, old, stored.revision);
  await assert.rejects(relaunch(l), (e) => isDirectorSnapshotError(e) && /chart version/.test((e as Error).message));
});

test("persist - resuming a finished run reports its summary and runs nothing", async () => {
  const l = await launch(plan([stage(0)]));
  const first = summary(await l.h.done);
  const calls = l.work.calls.length;
  const h2 = await relaunch(l);
  const again = summary(await h2.done);
  assert.deepEqual(again, first);
  assert.equal(l.work.calls.length, calls);
});

test("persist - a graceful stop stores everything, resolves done with DirectorStoppedError and can be resumed", async () => {
  const work = createFakeWork();
  const release = deferred();
  const base = work.trainImpl;
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage === 1) await Promise.race([release.promise, hang(signal)]);
    return base(input, onProgress, signal);
  };
  const l = await launch(twoStages(), { work });
  await reach(l.h, "stage1.training");
  await l.h.stop();
  assert.ok(isDirectorStoppedError(await l.h.done));
  assert.equal(storedStates(l.store, l.runId).at(-1), "stage1.training");
  assert.ok(work.aborted.includes("train:1:1"), "stopping aborts the work in flight");
  release.resolve();
  const h2 = await relaunch(l);
  assert.equal(summary(await h2.done).outcome, "done");
});
