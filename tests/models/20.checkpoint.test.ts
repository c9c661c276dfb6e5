// models - checkpoints in a local directory: round trip, corruption (truncated file, flipped
// byte, wrong version or magic) refused with a message naming the file, latestGood() falling
// back to the previous good checkpoint, incomplete writes never listed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { K, M, bitwiseEqual, tempDir, tinyGpt } from "./helpers.js";

function meta(step: number, extra: Partial<M.CheckpointMeta> = {}): M.CheckpointMeta {
  return { run: "r1", stage: "train", step, config: { model: M.specOf(tinyGpt(0)) as never }, state: { cursor: step }, ...extra };
}

async function saved(root: string, steps: number[]): Promise<{ store: M.LocalCheckpointStore; model: K.GPT }> {
  const store = M.localCheckpointStore(root);
  const model = tinyGpt(1);
  const opt = K.adamw(model);
  for (const step of steps) {
    model.namedParameters()[0]![1].f32()[0] = step; // each checkpoint is distinguishable
    await store.save(meta(step), { model: model.namedParameters(), optim: opt.stateDict() });
  }
  return { store, model };
}

test("checkpoint - save then load round-trips tensors, optimizer state and the manifest", async () => {
  using dir = tempDir();
  const { store, model } = await saved(dir.path, [10]);
  const ref = { run: "r1", stage: "train", step: 10, kind: "step" as const };
  const ck = await store.load(ref);
  assert.deepEqual(ck.ref, ref);
  assert.equal(ck.manifest.magic, "troupe-checkpoint");
  assert.equal(ck.manifest.version, 1);
  assert.deepEqual(ck.manifest.state, { cursor: 10 });
  for (const [n, p] of model.namedParameters()) assert.ok(bitwiseEqual(ck.model.get(n)!.f32(), p.f32()), n);
  assert.ok(ck.optim!.has("exp_avg.wte.weight") && ck.optim!.get("step.wte.weight")!.dtype === "i32");
  assert.deepEqual(readdirSync(store.dirOf(ref)).sort(), ["manifest.json", "model.safetensors", "optim.safetensors"]);
  const rebuilt = M.modelFromCheckpoint(ck).model;
  assert.equal(M.weightsDigest(rebuilt), M.weightsDigest(model));
});

test("checkpoint - save copies the tensors synchronously: changing them afterwards changes nothing", async () => {
  using dir = tempDir();
  const store = M.localCheckpointStore(dir.path);
  const model = tinyGpt(2);
  const w = model.namedParameters()[0]![1].f32();
  const before = Float32Array.from(w);
  const pending = store.save(meta(1), { model: model.namedParameters() });
  w.fill(42); // training goes on while the write is in flight
  const ck = await store.load(await pending);
  assert.ok(bitwiseEqual(ck.model.get(model.namedParameters()[0]![0])!.f32(), before));
});

test("checkpoint - a truncated file is refused, naming the file; latestGood falls back", async () => {
  using dir = tempDir();
  const { store } = await saved(dir.path, [10, 20, 30]);
  const ref30 = { run: "r1", stage: "train", step: 30, kind: "step" as const };
  const file = join(store.dirOf(ref30), "model.safetensors");
  truncateSync(file, 100);
  await assert.rejects(store.load(ref30), (e) => M.isCheckpointCorruptError(e) && e.file === "model.safetensors" && /truncated/.test(e.message) && e.message.includes(file));
  const good = await store.latestGood("r1", "train");
  assert.equal(good!.checkpoint.ref.step, 20);
  assert.equal(good!.rejected.length, 1);
  assert.equal(good!.rejected[0]!.code, "CHECKPOINT_CORRUPT");
  assert.equal(good!.checkpoint.model.get("wte.weight")!.f32()[0], 20);
});

test("checkpoint - a flipped byte is a SHA-256 mismatch", async () => {
  using dir = tempDir();
  const { store } = await saved(dir.path, [10, 20]);
  const ref = { run: "r1", stage: "train", step: 20, kind: "step" as const };
  const file = join(store.dirOf(ref), "optim.safetensors");
  const bytes = readFileSync(file);
  bytes[bytes.length - 3]! ^= 0x10;
  writeFileSync(file, bytes);
  await assert.rejects(store.load(ref), (e) => M.isCheckpointCorruptError(e) && e.file === "optim.safetensors" && /SHA-256 .* does not match/.test(e.message));
  assert.equal((await store.latestGood("r1", "train"))!.checkpoint.ref.step, 10);
});

test("checkpoint - a wrong version or magic is refused with how to fix it", async () => {
  using dir = tempDir();
  const { store } = await saved(dir.path, [10, 20, 30]);
  const edit = (step: number, f: (m: Record<string, unknown>) => void) => {
    const p = join(store.dirOf({ run: "r1", stage: "train", step, kind: "step" }), "manifest.json");
    const m = JSON.parse(readFileSync(p, "utf8"));
    f(m);
    writeFileSync(p, JSON.stringify(m));
  };
  edit(30, (m) => (m.version = 2));
  edit(20, (m) => (m.magic = "something-else"));
  await assert.rejects(store.load({ run: "r1", stage: "train", step: 30, kind: "step" }),
    (e) => M.isCheckpointFormatError(e) && e.file === "manifest.json" && /format version 2, this troupe reads version 1; upgrade troupe/.test(e.message));
  await assert.rejects(store.load({ run: "r1", stage: "train", step: 20, kind: "step" }),
    (e) => M.isCheckpointFormatError(e) && /not a troupe checkpoint/.test(e.message));
  const good = await store.latestGood("r1", "train");
  assert.equal(good!.checkpoint.ref.step, 10);
  assert.deepEqual(good!.rejected.map((r) => [r.ref.step, r.code]), [[30, "CHECKPOINT_FORMAT"], [20, "CHECKPOINT_FORMAT"]]);
});

test("checkpoint - a checkpoint without a manifest (killed mid-write) is not listed; stale temp dirs are swept", async () => {
  using dir = tempDir();
  const { store } = await saved(dir.path, [10]);
  const stageDir = join(dir.path, "r1", "checkpoints", "train");
  mkdirSync(join(stageDir, "step-00000020"));
  writeFileSync(join(stageDir, "step-00000020", "model.safetensors"), "partial");
  mkdirSync(join(stageDir, ".tmp-step-00000030-999999999-1"));
  assert.deepEqual((await store.list("r1", "train")).map((r) => r.step), [10]);
  await M.localCheckpointStore(dir.path).save(meta(40), { model: tinyGpt(0).namedParameters() }); // a new writer sweeps
  assert.ok(!readdirSync(stageDir).some((n) => n.startsWith(".tmp-")), "temp dir of a dead writer removed");
  assert.deepEqual((await store.list("r1", "train")).map((r) => r.step), [10, 40]);
  assert.equal(await store.latestGood("r1", "nothing-here"), null);
  await assert.rejects(store.load({ run: "r1", stage: "train", step: 20, kind: "step" }), M.isCheckpointNotFoundError);
});

test("checkpoint - bad names and kinds are typed errors; pruning keeps the newest", async () => {
  using dir = tempDir();
  const store = M.localCheckpointStore(dir.path);
  assert.throws(() => store.save(meta(1, { run: "../escape" }), { model: [] }), (e) => M.isModelConfigError(e) && /checkpoint\.run/.test(e.message));
  assert.throws(() => store.save(meta(-1), { model: [] }), (e) => M.isModelConfigError(e) && /checkpoint\.step/.test(e.message));
  const { store: s2 } = await saved(dir.path, [1, 2, 3, 4]);
  await s2.save(meta(3, { kind: "best" }), { model: tinyGpt(0).namedParameters() });
  const removed = await M.pruneCheckpoints(s2, "r1", "train", 2);
  assert.deepEqual(removed.map((r) => r.step), [1, 2]);
  assert.deepEqual((await s2.list("r1", "train")).map((r) => r.step), [3, 4]);
  assert.deepEqual((await s2.list("r1", "train", "best")).map((r) => r.step), [3]);
});

test("checkpoint - loadModelFile reads a checkpoint, stage or run directory, or the model file alone", async () => {
  using dir = tempDir();
  const { store, model } = await saved(dir.path, [5, 9]);
  const ref = { run: "r1", stage: "train", step: 9, kind: "step" as const };
  for (const p of [store.dirOf(ref), join(dir.path, "r1", "checkpoints", "train"), join(dir.path, "r1"), join(store.dirOf(ref), "model.safetensors")]) {
    const { model: m } = await M.loadModelFile(p);
    assert.equal(M.weightsDigest(m), M.weightsDigest(model), p);
  }
  truncateSync(join(store.dirOf(ref), "model.safetensors"), 50);
  await assert.rejects(M.loadModelFile(store.dirOf(ref)), M.isCheckpointCorruptError);
  const { model: older } = await M.loadModelFile(join(dir.path, "r1"));
  assert.equal(older.namedParameters()[0]![1].f32()[0], 5, "the run directory falls back to the previous good checkpoint");
  await assert.rejects(M.loadModelFile(join(dir.path, "nope")), M.isCheckpointNotFoundError);
});

test("checkpoint - writes in flight land in the order they were saved", async () => {
  using dir = tempDir();
  const store = M.localCheckpointStore(dir.path);
  const big = M.createGpt({ vocabSize: 256, blockSize: 64, nEmbd: 64, nHead: 2, nLayer: 2 }, 0);
  const landed: number[] = [];
  const writes = [1, 2, 3].map((step) => store.save(meta(step), { model: big.namedParameters() }).then((r) => landed.push(r.step)));
  await writes[2];
  assert.deepEqual(landed, [1, 2, 3]);
  assert.deepEqual((await store.list("r1", "train")).map((r) => r.step), [1, 2, 3]);
});
