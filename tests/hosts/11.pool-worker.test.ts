// The troupe pool worker (issue 11): an ephemeral port, the compile window, loading by digest
// (from a path and from the Object Store), numbers equal to a local forward whatever the
// padding, rich error details, and the spot notice as a process (SIGTERM → drain → exit 0).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { isPoolCallError, objectCheckpointStore } from "../../hosts/mod.js";
import { type ForwardChunk, spawnPoolWorker, startPoolWorker, workerClient } from "../../hosts/pools/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";
import { TEST_GPT, testCheckpoint } from "./fixtures/pool.js";

const env = natsForFile();
const BUCKETS = [{ batch: 1, seqLen: 16 }, { batch: 4, seqLen: 32 }];

const i32 = (a: Int32Array, B: number, T: number) => ({ dtype: "i32", shape: [B, T], data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) });
const f32 = (c: ForwardChunk) => new Float32Array(Uint8Array.from(c.logits!.data).buffer);

async function refused<T>(p: Promise<T>): Promise<{ status: string; reason: string | null; details: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    assert.ok(isPoolCallError(err), String(err));
    return { status: err.status, reason: err.reason, details: { ...err.details } };
  }
  assert.fail("expected the worker to refuse");
}

test("pool worker - binds port 0, says COMPILING and refuses work with NOT_READY until the compile is over", async () => {
  using ck = await testCheckpoint();
  const w = await startPoolWorker({ buckets: BUCKETS, cores: 1, compileMs: 400, model: { path: ck.path } });
  const c = workerClient(w.address);
  try {
    assert.match(w.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(w.port > 0);
    const h = await check(async () => {
      const x = await c.health();
      return x.state === "COMPILING" ? x : null;
    }, { what: "the COMPILING state" });
    assert.equal(h.ready, false);
    assert.ok(h.compileRemainingMs > 0);
    const r = await refused(c.forward({ modelId: "", tokens: i32(new Int32Array(4), 1, 4), lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" }));
    assert.deepEqual([r.status, r.reason], ["UNAVAILABLE", "NOT_READY"]);
    await w.ready();
    assert.equal((await c.health()).state, "SERVING");
    const d = await c.describe();
    assert.equal(d.model!.vocabSize, TEST_GPT.vocabSize);
    assert.equal(d.model!.nLayer, TEST_GPT.nLayer);
  } finally {
    c.close();
    await w.close();
  }
});

test("pool worker - Load by digest: a wrong digest is DATA_LOSS DIGEST_MISMATCH, the right one serves, the same again compiles nothing", async () => {
  using a = await testCheckpoint(TEST_GPT, 1);
  using b = await testCheckpoint(TEST_GPT, 2);
  const w = await startPoolWorker({ buckets: BUCKETS, cores: 1 });
  const c = workerClient(w.address);
  try {
    assert.equal((await c.health()).state, "STARTING");
    const first = await c.load({ modelId: "a", digest: "", path: a.path, source: "path" });
    assert.equal(first.alreadyLoaded, false);
    const bad = await refused(c.load({ modelId: "b", digest: first.model!.digest, path: b.path, source: "path" }));
    assert.deepEqual([bad.status, bad.reason], ["DATA_LOSS", "DIGEST_MISMATCH"]);
    assert.equal(bad.details.expected, first.model!.digest);
    assert.equal((await c.describe()).model!.id, "a", "the refused load changed nothing");
    const again = await c.load({ modelId: "a2", digest: first.model!.digest, path: a.path, source: "path" });
    assert.equal(again.alreadyLoaded, true);
    assert.equal(again.compileMs, 0);
    const none = await refused(c.load({ modelId: "x", digest: "", source: undefined }));
    assert.deepEqual([none.status, none.reason], ["INVALID_ARGUMENT", "BAD_SOURCE"]);
    const gone = await refused(c.load({ modelId: "x", digest: "", path: "/nonexistent/checkpoint", source: "path" }));
    assert.deepEqual([gone.status, gone.reason], ["FAILED_PRECONDITION", "LOAD_FAILED"]);
  } finally {
    c.close();
    await w.close();
  }
});

test("pool worker - loads a troupe checkpoint from the Object Store by bucket, prefix and digest", async () => {
  const run = uniqueName("pool");
  const model = M.createGpt(TEST_GPT, 4);
  const ref = await objectCheckpointStore(env.nc).save({ run, stage: "base", step: 7, config: { model: M.specOf(model) as never }, state: {} }, { model: model.namedParameters() });
  const w = await startPoolWorker({ buckets: BUCKETS, cores: 1 });
  const c = workerClient(w.address);
  try {
    const src = { natsUrl: env.nats.url, bucket: `troupe_${run}_checkpoints`, prefix: `base/${M.refName(ref)}` };
    const r = await c.load({ modelId: "base-7", digest: "", objectStore: src, source: "objectStore" });
    assert.equal(r.model!.id, "base-7");
    const missing = await refused(c.load({ modelId: "nope", digest: "", objectStore: { ...src, prefix: "base/step-99999999" }, source: "objectStore" }));
    assert.deepEqual([missing.status, missing.reason], ["FAILED_PRECONDITION", "LOAD_FAILED"]);
    const ids = Int32Array.from({ length: 12 }, (_, i) => (i * 31) % 256);
    const [chunk] = await c.forward({ modelId: "base-7", tokens: i32(ids, 1, 12), lengths: [], outputs: { logits: "LOGITS_ALL", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" });
    model.eval();
    const local = K.noGrad(() => model.forward(K.fromArray(ids, [1, 12]))).f32();
    let d = 0;
    f32(chunk!).forEach((x, i) => (d = Math.max(d, Math.abs(x - local[i]!))));
    assert.ok(d <= 1e-5, `logits differ from the local forward by ${d}`);
  } finally {
    c.close();
    await w.close();
  }
});

test("pool worker - logits equal a local forward of the checkpoint within 1e-5 in every bucket and padding", async () => {
  using ck = await testCheckpoint();
  const w = await startPoolWorker({ buckets: [{ batch: 1, seqLen: 8 }, { batch: 2, seqLen: 16 }, { batch: 4, seqLen: 64 }], cores: 2, model: { path: ck.path } });
  await w.ready();
  const c = workerClient(w.address);
  try {
    const V = TEST_GPT.vocabSize;
    for (const lengths of [[8], [5], [16, 3], [9], [40, 1, 17], [64, 64, 64, 64], [2, 2, 2, 2, 2, 2]]) {
      const T = Math.max(...lengths);
      const B = lengths.length;
      const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + T) % V);
      const chunks = await c.forward({ modelId: "", tokens: i32(ids, B, T), lengths, outputs: { logits: "LOGITS_ALL", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" });
      for (const ch of chunks) {
        const x = f32(ch);
        for (let i = 0; i < ch.rows; i++) {
          const b = ch.rowStart + i;
          const n = lengths[b]!;
          const local = K.noGrad(() => ck.model.forward(K.fromArray(ids.slice(b * T, b * T + n), [1, n]))).f32();
          let d = 0;
          for (let k = 0; k < n * V; k++) d = Math.max(d, Math.abs(x[i * T * V + k]! - local[k]!));
          assert.ok(d <= 1e-5, `lengths ${lengths}: row ${b} in bucket ${ch.execution!.bucket!.batch}x${ch.execution!.bucket!.seqLen} differs by ${d}`);
          for (let k = n * V; k < T * V; k++) assert.equal(x[i * T * V + k], 0, "padded positions are zeros");
        }
      }
    }
  } finally {
    c.close();
    await w.close();
  }
});

test("pool worker - SIGTERM is the spot notice: held work finishes, new work is refused, the process exits 0", async () => {
  using ck = await testCheckpoint();
  const w = await spawnPoolWorker({ buckets: [{ batch: 4, seqLen: 64 }], cores: 1, model: { path: ck.path }, drainMs: 60_000 });
  const c = workerClient(w.address);
  try {
    await w.ready;
    const rows = 1000;
    const held = c.forward({ modelId: "", tokens: i32(new Int32Array(rows * 64), rows, 64), lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" });
    await check(async () => (await c.health()).inFlight === 1, { what: "the long request to be held" });
    w.kill("SIGTERM");
    await check(async () => (await c.health()).state === "DRAINING", { what: "DRAINING" });
    const r = await refused(c.forward({ modelId: "", tokens: i32(new Int32Array(4), 1, 4), lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" }));
    assert.deepEqual([r.status, r.reason], ["UNAVAILABLE", "DRAINING"]);
    const chunks = await held;
    assert.equal(chunks.reduce((n, ch) => n + ch.rows, 0), rows, "every held row was answered");
    assert.deepEqual(await w.exited, { code: 0, signal: null });
  } finally {
    c.close();
    w.kill("SIGKILL");
  }
});

test("pool worker - work still held at the drain deadline is cut off and the worker leaves anyway", async () => {
  using ck = await testCheckpoint();
  const w = await spawnPoolWorker({ buckets: [{ batch: 4, seqLen: 64 }], cores: 1, model: { path: ck.path }, drainMs: 200, maxRows: 100_000 });
  const c = workerClient(w.address);
  try {
    await w.ready;
    const rows = 100_000 - (100_000 % 4);
    const held = c.forward({ modelId: "", tokens: i32(new Int32Array(rows * 64), rows, 64), lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "" });
    await check(async () => (await c.health()).inFlight === 1, { what: "the long request to be held" });
    w.kill("SIGTERM");
    const r = await refused(held);
    assert.ok(["CANCELLED", "UNAVAILABLE", "INTERNAL"].includes(r.status), r.status);
    assert.deepEqual(await w.exited, { code: 0, signal: null });
  } finally {
    c.close();
    w.kill("SIGKILL");
  }
});

test("pool worker - a process whose model cannot be loaded exits 1 saying why, and ready() rejects", async () => {
  const w = await spawnPoolWorker({ buckets: BUCKETS, cores: 1, model: { path: "/nonexistent/checkpoint" } });
  try {
    await assert.rejects(w.ready, /exited \(code 1\) before it was ready/);
    assert.deepEqual(await w.exited, { code: 1, signal: null });
    assert.match(w.log(), /cannot load a model from \/nonexistent\/checkpoint/);
  } finally {
    w.kill("SIGKILL");
  }
});
