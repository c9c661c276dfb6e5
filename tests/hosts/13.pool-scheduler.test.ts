// The pool scheduler (issue 11): every row gets its own numbers back whatever it was packed
// with; bucketing pads less than first fit; a worker killed -9 loses no row (retried on
// another, counted) and comes back when it is up again; drain, deadlines, callers' mistakes,
// and loading the pool's model by digest from the Object Store.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { isPoolDeadlineError, isPoolRequestError, objectCheckpointStore, openObjects } from "../../hosts/mod.js";
import { type Pool, type PoolWorker, createPool, startLocalPool, startPoolWorker } from "../../hosts/pools/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";
import { TEST_GPT, testCheckpoint } from "./fixtures/pool.js";

const env = natsForFile();
const BUCKETS = [{ batch: 1, seqLen: 8 }, { batch: 4, seqLen: 8 }, { batch: 4, seqLen: 16 }, { batch: 4, seqLen: 32 }, { batch: 2, seqLen: 64 }];
const V = TEST_GPT.vocabSize;

const rowOf = (i: number, len: number) => Int32Array.from({ length: len }, (_, k) => (i * 13 + k * 7) % V);
const lengthOf = (i: number) => 1 + ((i * 37) % 64);

function localLast(model: M.GPT, ids: Int32Array): Float32Array {
  const all = K.noGrad(() => model.forward(K.fromArray(ids, [1, ids.length]))).f32();
  return all.slice((ids.length - 1) * V, ids.length * V);
}

async function inProcess(n: number, path: string | null): Promise<PoolWorker[]> {
  const ws = await Promise.all(Array.from({ length: n }, () => startPoolWorker({ buckets: BUCKETS, cores: 2, ...(path ? { model: { path } } : {}) })));
  if (path) await Promise.all(ws.map((w) => w.ready()));
  return ws;
}

async function closeAll(pool: Pool | null, ws: PoolWorker[]) {
  await pool?.close();
  await Promise.all(ws.map((w) => w.close()));
}

test("pool scheduler - each row gets its own logits (equal to a local forward) whatever it was packed with; bucketing pads less than first fit", async () => {
  using ck = await testCheckpoint();
  const ws = await inProcess(2, ck.path);
  const padding: Record<string, number> = {};
  try {
    for (const policy of ["naive", "bucketed"] as const) {
      const pool = createPool({ workers: ws.map((w) => w.address), policy });
      try {
        await pool.ready({ workers: 2 });
        const rows = Array.from({ length: 120 }, (_, i) => rowOf(i, lengthOf(i)));
        const out = await Promise.all(rows.map((r) => pool.forward(r, { logits: "last" })));
        out.forEach((res, i) => {
          const want = localLast(ck.model, rows[i]!);
          let d = 0;
          res.logits!.forEach((x, k) => (d = Math.max(d, Math.abs(x - want[k]!))));
          assert.ok(d <= 1e-5, `${policy}: row ${i} (length ${rows[i]!.length}) differs by ${d} in bucket ${res.execution.bucket!.batch}x${res.execution.bucket!.seqLen}`);
        });
        const m = pool.metrics();
        assert.equal(m.requests, 120);
        assert.equal(m.completed, 120);
        assert.equal(m.failed, 0);
        assert.equal(m.retried, 0);
        assert.equal(m.latencyMs.n, 120);
        assert.ok(m.workers.every((w) => w.rows > 0), "both workers got rows");
        padding[policy] = m.paddingRatio;
      } finally {
        await pool.close();
      }
    }
    assert.ok(padding.bucketed! < padding.naive!, `bucketed padding ${padding.bucketed} should be below naive ${padding.naive}`);
  } finally {
    await closeAll(null, ws);
  }
});

test("pool scheduler - a worker killed -9 under load loses no row: they are retried on another worker, and it returns when restarted", async () => {
  using ck = await testCheckpoint();
  const lp = await startLocalPool({ count: 2, spec: { buckets: BUCKETS, cores: 2, model: { path: ck.path } } });
  const pool = createPool({ workers: lp.addresses, healthIntervalMs: 100 });
  try {
    await lp.ready();
    await pool.ready({ workers: 2 });
    let answered = 0;
    const rows = Array.from({ length: 300 }, (_, i) => rowOf(i, 64));
    const all = Promise.all(rows.map((r) => pool.forward(r, { logits: "last" }).then((x) => (answered++, x))));
    await check(() => answered >= 50, { what: "some rows answered" });
    lp.worker(0).kill("SIGKILL");
    const out = await all;
    assert.equal(out.length, 300);
    const m = pool.metrics();
    assert.equal(m.failed, 0);
    assert.equal(m.completed, 300);
    assert.ok(m.retried > 0, "rows in flight on the killed worker were sent again");
    assert.ok(out.some((r) => r.attempts > 1 && r.worker === lp.addresses[1]));
    const dead = m.workers.find((w) => w.address === lp.addresses[0])!;
    assert.equal(dead.state, "down");
    assert.equal(dead.outOfRotation, 1);
    await lp.restart(0);
    await check(() => pool.metrics().workers.find((w) => w.address === lp.addresses[0])!.state === "ready", { what: "the restarted worker back in rotation", timeoutMs: 30_000 });
    assert.equal(pool.metrics().workers.find((w) => w.address === lp.addresses[0])!.returned, 1);
    const more = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.forward(rowOf(i, 64), { logits: "last" })));
    assert.ok(more.some((r) => r.worker === lp.addresses[0]), "it takes rows again");
  } finally {
    await pool.close();
    await lp.stop();
  }
});

test("pool scheduler - a draining worker leaves the rotation at once; its held rows complete and new rows go elsewhere", async () => {
  using ck = await testCheckpoint();
  const ws = await inProcess(2, ck.path);
  const pool = createPool({ workers: ws.map((w) => w.address) });
  try {
    await pool.ready({ workers: 2 });
    const first = Promise.all(Array.from({ length: 200 }, (_, i) => pool.forward(rowOf(i, 64), { logits: "last" })));
    await check(() => pool.metrics().completed >= 10, { what: "work under way" });
    ws[0]!.drain(30_000, "test");
    await check(() => pool.metrics().workers[0]!.state !== "ready", { what: "the drained worker out of rotation" });
    const out = await first;
    assert.equal(out.length, 200);
    const later = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.forward(rowOf(i, 10), { logits: "last" })));
    assert.ok(later.every((r) => r.worker === ws[1]!.address), "nothing new goes to the draining worker");
    assert.equal(pool.metrics().failed, 0);
    assert.equal(await ws[0]!.closed, undefined);
  } finally {
    await closeAll(pool, ws);
  }
});

test("pool scheduler - deadlines and callers' mistakes: nobody to serve is PoolDeadlineError; a bad row fails at once, not retried", async () => {
  using ck = await testCheckpoint();
  const [w] = await inProcess(1, ck.path);
  const stuck = await startPoolWorker({ buckets: BUCKETS, cores: 1 }); // never gets a model
  try {
    const nobody = createPool({ workers: [stuck.address], deadlineMs: 300 });
    await assert.rejects(nobody.forward(rowOf(1, 5), { logits: "last" }), (e) => isPoolDeadlineError(e) && e.deadlineMs === 300);
    assert.equal(nobody.metrics().deadlineExceeded, 1);
    assert.equal(nobody.metrics().failed, 1);
    await nobody.close();

    const pool = createPool({ workers: [w!.address] });
    await pool.ready();
    await assert.rejects(pool.forward(rowOf(1, 65), { logits: "last" }), (e) => isPoolRequestError(e) && e.reason === "SEQUENCE_TOO_LONG" && e.attempts === 0);
    await assert.rejects(pool.forward(Int32Array.from([1, 2, V + 5]), { logits: "last" }), (e) => isPoolRequestError(e) && e.status === "INVALID_ARGUMENT" && e.reason === "TOKEN_OUT_OF_RANGE" && e.attempts === 1);
    await assert.rejects(pool.forward(rowOf(1, 4), { logits: "last", hiddenLayers: [9] }), (e) => isPoolRequestError(e) && e.reason === "LAYER_OUT_OF_RANGE");
    assert.equal(pool.metrics().retried, 0);
    await pool.close();
  } finally {
    await closeAll(null, [w!, stuck]);
  }
});

test("pool scheduler - useModel: workers without it load the pool's model from the Object Store by digest before taking rows", async () => {
  const run = uniqueName("pool");
  const model = M.createGpt(TEST_GPT, 9);
  model.eval();
  const ref = await objectCheckpointStore(env.nc).save({ run, stage: "base", step: 3, config: { model: M.specOf(model) as never }, state: {} }, { model: model.namedParameters() });
  const objects = await openObjects(env.nc, { run, bucket: "checkpoints" });
  const manifest = JSON.parse(new TextDecoder().decode(await objects.get(`base/${M.refName(ref)}/manifest.json`))) as M.Manifest;
  const digest = manifest.files["model.safetensors"]!.sha256;
  const ws = await inProcess(2, null);
  const pool = createPool({ workers: ws.map((w) => w.address) });
  try {
    await pool.useModel({ id: "base-3", digest, source: { objectStore: { natsUrl: env.nats.url, bucket: objects.bucket, prefix: `base/${M.refName(ref)}` } } });
    await pool.ready({ workers: 2, timeoutMs: 30_000 });
    const ids = rowOf(5, 20);
    const r = await pool.forward(ids, { logits: "last" });
    const want = localLast(model, ids);
    let d = 0;
    r.logits!.forEach((x, k) => (d = Math.max(d, Math.abs(x - want[k]!))));
    assert.ok(d <= 1e-5, `differs by ${d}`);
    for (const w of ws) assert.equal(w.describe().model!.digest, digest);
  } finally {
    await closeAll(pool, ws);
  }
});

test("pool scheduler - switching models waits for the rows asked of the previous one; later rows get the new model", async () => {
  using a = await testCheckpoint(TEST_GPT, 31);
  using b = await testCheckpoint(TEST_GPT, 32);
  const ws = await inProcess(2, null);
  const pool = createPool({ workers: ws.map((w) => w.address) });
  const modelA = { id: "a", digest: "", source: { path: a.path } };
  const modelB = { id: "b", digest: "", source: { path: b.path } };
  try {
    // digests: what the workers compute from the files (the Load checks them)
    const probe = await startPoolWorker({ buckets: BUCKETS, cores: 1 });
    const { workerClient } = await import("../../hosts/pools/mod.js");
    const c = workerClient(probe.address);
    const digestA = (await c.load({ modelId: "a", digest: "", path: a.path, source: "path" })).model!.digest;
    const digestB = (await c.load({ modelId: "b", digest: "", path: b.path, source: "path" })).model!.digest;
    c.close();
    await probe.close();
    await pool.useModel({ ...modelA, digest: digestA });
    const rows = Array.from({ length: 60 }, (_, i) => rowOf(i, 1 + (i % 40)));
    const first = rows.map((r) => pool.forward(r, { logits: "last" }));
    const switched = pool.useModel({ ...modelB, digest: digestB });
    const asA = await Promise.all(first);
    await switched;
    const asB = await Promise.all(rows.slice(0, 10).map((r) => pool.forward(r, { logits: "last" })));
    const near = (x: Float32Array, y: Float32Array) => x.every((v, k) => Math.abs(v - y[k]!) <= 1e-5);
    asA.forEach((r, i) => assert.ok(near(r.logits!, localLast(a.model, rows[i]!)), `row ${i} submitted before the switch ran on model a`));
    asB.forEach((r, i) => assert.ok(near(r.logits!, localLast(b.model, rows[i]!)), `row ${i} submitted after the switch ran on model b`));
    assert.ok(!near(asA[0]!.logits!, asB[0]!.logits!), "the two models differ");
  } finally {
    await closeAll(pool, ws);
  }
});
