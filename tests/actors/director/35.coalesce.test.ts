// A burst of progress reports during one save is stored as one snapshot, with the latest
// values; distinct states are never coalesced away.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimulatedClock } from "xstate";
import { createMemorySnapshotStore, startDirector, stateName, type SnapshotStore } from "../../../actors/director/mod.js";
import { createFakeWork } from "./fake-work.js";
import { storedStates } from "./harness.js";
import { plan, stage } from "./plans.js";

test("persist - progress reports during a save coalesce into one snapshot with the latest step", async () => {
  const memory = createMemorySnapshotStore();
  let saves = 0;
  const slow: SnapshotStore = {
    load: (id) => memory.load(id),
    // Each save completes on a later turn of the event loop, like a network round trip.
    save: (id, snap, rev) => {
      saves += 1;
      return new Promise((resolve, reject) => setImmediate(() => memory.save(id, snap, rev).then(resolve, reject)));
    },
  };
  const work = createFakeWork();
  work.trainImpl = async (input, onProgress) => {
    for (let step = 1; step <= 20; step++) onProgress({ step, losses: { total: 1 / step } });
    await new Promise((r) => setImmediate(r));
    for (let step = 21; step <= 40; step++) onProgress({ step, losses: { total: 1 / step } });
    return { steps: input.attempt.steps };
  };
  const h = await startDirector({ runId: "coalesce", store: slow, work, clock: new SimulatedClock(), plan: plan([stage(0, { steps: 40 })]), available: [0] });
  await h.done;
  const history = memory.history("coalesce");
  const training = history.filter((e) => stateName(e.snapshot.value) === "stage0.training");
  assert.ok(training.length >= 1 && training.length <= 4, `${training.length} training saves for 40 progress reports`);
  assert.equal(training.at(-1)!.snapshot.context.progress?.step, 40, "the latest progress is what is stored");
  assert.deepEqual(storedStates(memory, "coalesce"), ["stage0.preparing", "stage0.training", "stage0.evaluating", "done"]);
  assert.equal(saves, history.length);
});
