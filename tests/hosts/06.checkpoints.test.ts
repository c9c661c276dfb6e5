// hosts - checkpoints in the JetStream Object Store (models' CheckpointStore over openObjects),
// against a real nats-server: round trip, names by run/stage/step, corruption and version
// errors refused with the file named, latestGood() falling back, removal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { objectCheckpointStore, openObjects } from "../../hosts/mod.js";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

const gpt = () => M.createGpt({ vocabSize: 32, blockSize: 8, nEmbd: 16, nHead: 2, nLayer: 1 }, 3);

async function saveSteps(store: M.CheckpointStore, run: string, steps: number[]) {
  const model = gpt();
  const opt = K.adamw(model);
  for (const step of steps) {
    model.namedParameters()[0]![1].f32()[0] = step;
    await store.save({ run, stage: "train", step, config: { model: M.specOf(model) as never }, state: { step } }, { model: model.namedParameters(), optim: opt.stateDict() });
  }
  return model;
}

test("checkpoints - the Object Store holds <stage>/<kind>-<step>/<file> per run and round-trips them", async () => {
  const run = uniqueName("ck");
  const store = objectCheckpointStore(env.nc);
  const model = await saveSteps(store, run, [5, 10]);
  const objects = await openObjects(env.nc, { run, bucket: "checkpoints" });
  const names = (await objects.list()).map((o) => o.name).sort();
  assert.deepEqual(names, [
    "train/step-00000005/manifest.json", "train/step-00000005/model.safetensors", "train/step-00000005/optim.safetensors",
    "train/step-00000010/manifest.json", "train/step-00000010/model.safetensors", "train/step-00000010/optim.safetensors",
  ]);
  assert.deepEqual((await store.list(run, "train")).map((r) => r.step), [5, 10]);
  const ck = await store.load({ run, stage: "train", step: 10, kind: "step" });
  assert.equal(M.weightsDigest(M.modelFromCheckpoint(ck).model), M.weightsDigest(model));
  assert.ok(ck.optim!.has("exp_avg_sq.wte.weight"));
  await store.remove({ run, stage: "train", step: 5, kind: "step" });
  assert.deepEqual((await store.list(run, "train")).map((r) => r.step), [10]);
});

test("checkpoints - replaced bytes fail the manifest's SHA-256; latestGood uses the previous one", async () => {
  const run = uniqueName("ck");
  const store = objectCheckpointStore(env.nc);
  await saveSteps(store, run, [1, 2, 3]);
  const objects = await openObjects(env.nc, { run, bucket: "checkpoints" });
  const name = "train/step-00000003/model.safetensors";
  const bytes = await objects.get(name);
  bytes[bytes.length - 1]! ^= 1;
  await objects.put(name, bytes); // consistent for the Object Store, not for the manifest
  await assert.rejects(store.load({ run, stage: "train", step: 3, kind: "step" }),
    (e) => M.isCheckpointCorruptError(e) && e.file === "model.safetensors" && /SHA-256/.test(e.message));
  await objects.put("train/step-00000002/optim.safetensors", bytes.subarray(0, 10));
  await assert.rejects(store.load({ run, stage: "train", step: 2, kind: "step" }), (e) => M.isCheckpointCorruptError(e) && /truncated/.test(e.message));
  const good = await store.latestGood(run, "train");
  assert.equal(good!.checkpoint.ref.step, 1);
  assert.deepEqual(good!.rejected.map((r) => r.ref.step), [3, 2]);
});

test("checkpoints - a manifest of another version is refused with how to fix it; a missing file is corrupt", async () => {
  const run = uniqueName("ck");
  const store = objectCheckpointStore(env.nc);
  await saveSteps(store, run, [7, 8]);
  const objects = await openObjects(env.nc, { run, bucket: "checkpoints" });
  const mname = "train/step-00000008/manifest.json";
  const m = JSON.parse(new TextDecoder().decode(await objects.get(mname)));
  m.version = 99;
  await objects.put(mname, new TextEncoder().encode(JSON.stringify(m)));
  await assert.rejects(store.load({ run, stage: "train", step: 8, kind: "step" }),
    (e) => M.isCheckpointFormatError(e) && e.file === "manifest.json" && /version 99, this troupe reads version 1; upgrade troupe/.test(e.message));
  await objects.delete("train/step-00000007/optim.safetensors");
  await assert.rejects(store.load({ run, stage: "train", step: 7, kind: "step" }), (e) => M.isCheckpointCorruptError(e) && e.file === "optim.safetensors" && /missing/.test(e.message));
  assert.equal(await store.latestGood(run, "train"), null);
  await assert.rejects(store.load({ run, stage: "train", step: 9, kind: "step" }), M.isCheckpointNotFoundError);
});

test("checkpoints - the trainer writes to the Object Store in the background and resumes from it", async () => {
  const run = uniqueName("ck");
  const store = objectCheckpointStore(env.nc);
  const data = await M.packData(["copying"], { trainPerCell: 20, heldOutPerCell: 4, block: 32 });
  const config = { vocabSize: 256, blockSize: 32, nEmbd: 16, nHead: 2, nLayer: 1 };
  const straight: number[] = [];
  await M.trainSft({ data, config, steps: 8, batch: 4, seed: 2, onStep: (s) => straight.push(s.loss) });
  const ac = new AbortController();
  await assert.rejects(M.trainSft({ data, config, steps: 8, batch: 4, seed: 2, signal: ac.signal, checkpoints: { store, run, stage: "sft", every: 3 }, onStep: (s) => { if (s.step === 5) ac.abort(); } }),
    M.isTrainingAbortedError);
  // the abort keeps its last complete step (guards #10: Ctrl-C saves)
  assert.deepEqual((await store.list(run, "sft")).map((r) => r.step), [3, 5]);
  const resumed: number[] = [];
  const r = await M.trainSft({ data, config, steps: 8, batch: 4, seed: 2, resume: true, checkpoints: { store, run, stage: "sft", every: 3 }, onStep: (s) => resumed.push(s.loss) });
  assert.equal(r.resumedFrom, 5);
  assert.equal(resumed.length, 3);
  assert.ok(resumed.every((x, i) => Object.is(x, straight[i + 5])));
});

test("checkpoints - mirrored with a local directory: both get every checkpoint; a bad local copy is read from the Object Store", async () => {
  const { mkdtempSync, rmSync, truncateSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "troupe-mirror-"));
  try {
    const run = uniqueName("ck");
    const local = M.localCheckpointStore(dir);
    const store = M.mirroredCheckpointStore(local, objectCheckpointStore(env.nc));
    await saveSteps(store, run, [4, 6]);
    assert.deepEqual((await local.list(run, "train")).map((r) => r.step), [4, 6]);
    assert.deepEqual((await objectCheckpointStore(env.nc).list(run, "train")).map((r) => r.step), [4, 6]);
    truncateSync(join(local.dirOf({ run, stage: "train", step: 6, kind: "step" }), "model.safetensors"), 10);
    const good = await store.latestGood(run, "train");
    assert.equal(good!.checkpoint.ref.step, 6, "the Object Store's copy of step 6");
    assert.equal(good!.checkpoint.model.get("wte.weight")!.f32()[0], 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("checkpoints - troupe train --nats writes its checkpoints to the run's Object Store too", async () => {
  const { spawnSync } = await import("node:child_process");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "troupe-cli-nats-"));
  try {
    const run = uniqueName("cli");
    const main = join(import.meta.dirname, "..", "..", "cli", "main.js");
    const r = spawnSync(process.execPath, [main, "train", "--data", "pack:copying", "--steps", "6", "--checkpoint-every", "3", "--embd", "16", "--layers", "1", "--heads", "2", "--block", "48", "--batch", "4",
      "--out", dir, "--run", run, "--nats", env.nats.url, "--json"], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((await objectCheckpointStore(env.nc).list(run, "train")).map((x) => x.step), [3, 6]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
