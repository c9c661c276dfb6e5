// harness - pretrained bases shared between the files of a test run (bases.ts): a base stored
// on one server is copied out and put into another, where the cast's cache finds it, loads
// it digest for digest, and a half-copied folder is not taken.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { objectCheckpointStore } from "../../hosts/mod.js";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { exportBases, importBases } from "./bases.js";
import { startNats } from "./nats.js";

test("harness - a base stored on one server is exported once and found, the same, in another's cache", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-bases-"));
  await using a = await startNats();
  await using b = await startNats();
  try {
    const [ncA, ncB] = [await a.connect(), await b.connect()];
    const model = M.createGpt({ vocabSize: 32, blockSize: 8, nEmbd: 16, nHead: 2, nLayer: 1 }, 3);
    const opt = K.adamw(model);
    const stage = "base-0123456789abcdef";
    const storeA = objectCheckpointStore(ncA, { bucket: "bases" });
    for (const step of [100, 200]) {
      model.namedParameters()[0]![1].f32()[0] = step;
      await storeA.save({ run: "shared", stage, step, config: { model: M.specOf(model) as never }, state: { step } }, { model: model.namedParameters(), optim: opt.stateDict() });
    }
    assert.deepEqual(await exportBases(ncA, dir), [`${stage}/step-00000200`], "the newest checkpoint of each base");
    assert.deepEqual(await exportBases(ncA, dir), [], "already there: not copied again");
    // a folder another process is still writing (no marker yet) is left alone
    mkdirSync(join(dir, "base-fedcba9876543210", "step-00000700"), { recursive: true });
    writeFileSync(join(dir, "base-fedcba9876543210", "step-00000700", "model.safetensors"), "half");
    assert.deepEqual(await importBases(ncB, dir), [`${stage}/step-00000200`]);
    const storeB = objectCheckpointStore(ncB, { bucket: "bases" });
    assert.deepEqual((await storeB.list("shared", stage)).map((r) => r.step), [200]);
    assert.deepEqual(await storeB.list("shared", "base-fedcba9876543210"), []);
    const ck = await storeB.load({ run: "shared", stage, step: 200, kind: "step" });
    assert.equal(M.weightsDigest(M.modelFromCheckpoint(ck).model), M.weightsDigest(model));
    assert.ok(ck.optim!.has("exp_avg_sq.wte.weight"));
    assert.deepEqual(readdirSync(join(dir, stage)), ["step-00000200"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
