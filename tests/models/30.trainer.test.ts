// models - the trainer loop: token-weighted gradient accumulation, the NaN/Inf guard, early
// stopping with the best weights restored, abort, the LR schedule, checkpoint rotation and
// the progress output.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ResumableBatcher, TokenBatch } from "../../data/mod.js";
import { K, M, TINY, bitwiseEqual, maxAbsDiff, tempDir, tinyGpt } from "./helpers.js";

const IGNORE = K.IGNORE_INDEX;

/** Replays a fixed list of batches, cycling. */
function fixedBatches(list: TokenBatch[]): ResumableBatcher<unknown> {
  let i = 0;
  return { next: () => list[i++ % list.length]!, state: () => ({ i }), restore: (s) => void (i = (s as { i: number }).i) };
}

function rows(B: number, T: number, seed: number, keep: number[]): TokenBatch {
  const rng = K.createRng(seed);
  const idx = new Int32Array(B * T).map(() => rng.int(TINY.vocabSize));
  const targets = new Int32Array(B * T).map((_, i) => (i % T < keep[Math.floor(i / T)]! ? rng.int(TINY.vocabSize) : IGNORE));
  return { idx, targets, B, T, tokens: keep.reduce((a, b) => a + b, 0) };
}

function concat(a: TokenBatch, b: TokenBatch): TokenBatch {
  const cat = (x: Int32Array, y: Int32Array) => { const o = new Int32Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
  return { idx: cat(a.idx, b.idx), targets: cat(a.targets, b.targets), B: a.B + b.B, T: a.T, tokens: a.tokens + b.tokens };
}

function gradsOf(model: K.GPT): Float32Array {
  const parts = model.namedParameters().map(([, p]) => p.grad!.f32());
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

test("trainer - accumulation weights micro-batches by tokens: two uneven halves equal one whole batch", async () => {
  const small = rows(1, 8, 1, [2]);   // 2 target tokens
  const big = rows(1, 8, 2, [8]);     // 8 target tokens
  const run = async (batches: TokenBatch[], accumulate: number) => {
    const model = tinyGpt(3);
    let grads: Float32Array | null = null;
    let loss = NaN;
    await M.train({ model, batches: fixedBatches(batches), steps: 1, accumulate, clipNorm: null, onStep: (r) => { grads = gradsOf(model); loss = r.loss; } });
    return { grads: grads!, loss };
  };
  const whole = await run([concat(small, big)], 1);
  const halves = await run([small, big], 2);
  assert.ok(maxAbsDiff(halves.grads, whole.grads) < 1e-6, `gradients differ by ${maxAbsDiff(halves.grads, whole.grads)}`);
  assert.ok(Math.abs(halves.loss - whole.loss) < 1e-6);
  // an unweighted mean of the two halves would be a different direction, not just a scale
  const naive = await (async () => {
    const model = tinyGpt(3);
    for (const b of [small, big]) K.backward(K.scale(model.loss(K.fromArray(b.idx, [1, 8]), K.fromArray(b.targets, [1, 8])).loss, 0.5));
    return gradsOf(model);
  })();
  assert.ok(maxAbsDiff(naive, whole.grads) > 1e-4, "the test can tell weighting apart");
});

test("trainer - a NaN loss skips the update and is counted; K in a row stop training", async () => {
  const b = rows(2, 8, 5, [8, 8]);
  let calls = 0;
  const nanAt = new Set([2, 3]);
  const model = tinyGpt(6);
  const snapshots: Float32Array[] = [];
  const lossFn = (m: M.CausalLM, idx: K.Tensor, t: K.Tensor) => {
    const l = m.loss(idx, t).loss;
    return nanAt.has(++calls) ? K.mul(l, K.tensor([NaN], l.shape)) : l;
  };
  const r = await M.train({ model, batches: fixedBatches([b]), steps: 5, loss: lossFn, onStep: () => snapshots.push(Float32Array.from(model.namedParameters()[0]![1].f32())) });
  assert.equal(r.skippedSteps, 2);
  assert.equal(r.steps, 5);
  assert.ok(bitwiseEqual(snapshots[0]!, snapshots[2]!), "skipped steps leave the weights alone");
  assert.ok(!bitwiseEqual(snapshots[2]!, snapshots[3]!));

  calls = 0;
  const always = (m: M.CausalLM, idx: K.Tensor, t: K.Tensor) => { calls++; const l = m.loss(idx, t).loss; return K.mul(l, K.tensor([Infinity], l.shape)); };
  await assert.rejects(M.train({ model: tinyGpt(7), batches: fixedBatches([b]), steps: 50, loss: always, maxNonFiniteSteps: 3 }),
    (e) => M.isNonFiniteLossError(e) && e.step === 3 && e.consecutive === 3 && /3 steps in a row/.test(e.message));
  assert.equal(calls, 3);
});

// guards #16 (item 9): the fast kernels turned a NaN logit into a finite loss (12.46), so the
// guard never fired on the default kernels
test("trainer - a NaN weight fires the non-finite guard on the default kernels", async () => {
  assert.notEqual(K.kernelInfo().kernels, "reference", "the default (fast) kernels run here");
  // tokens 0..15 only; the tied embedding row of token 31 (never an input or a target) is NaN,
  // so one logit of every row is NaN: cross-entropy over it is NaN in PyTorch and here
  const rng = K.createRng(4);
  const b: TokenBatch = { idx: new Int32Array(16).map(() => rng.int(16)), targets: new Int32Array(16).map(() => rng.int(16)), B: 2, T: 8, tokens: 16 };
  const model = tinyGpt(9);
  const wte = model.namedParameters().find(([n]) => n === "wte.weight")![1];
  wte.f32().fill(NaN, 31 * TINY.nEmbd, 32 * TINY.nEmbd);
  const records: M.StepRecord[] = [];
  await assert.rejects(M.train({ model, batches: fixedBatches([b]), steps: 10, maxNonFiniteSteps: 2, onStep: (r) => records.push(r) }),
    (e) => M.isNonFiniteLossError(e) && e.step === 2);
  assert.deepEqual(records.map((r) => [r.skipped, Number.isNaN(r.loss)]), [[true, true], [true, true]]);
  assert.ok(Number.isNaN(wte.f32()[31 * TINY.nEmbd]) && wte.f32().slice(0, 31 * TINY.nEmbd).every(Number.isFinite), "no update was applied");
});

test("trainer - early stopping keeps the best evaluation's weights and checkpoints it", async () => {
  using dir = tempDir();
  const store = M.localCheckpointStore(dir.path);
  const script = [3, 2, 2.5, 2.6, 2.7, 1];
  let e = 0;
  const model = tinyGpt(8);
  const weights: Float32Array[] = [];
  const r = await M.train({
    model, batches: fixedBatches([rows(2, 8, 9, [8, 8])]), steps: 6,
    evaluate: { every: 1, fn: () => script[e++]! }, earlyStopping: { patience: 2 },
    checkpoints: { store, run: "es", stage: "s", every: 0, config: null },
    onStep: () => weights.push(Float32Array.from(model.namedParameters()[0]![1].f32())),
  });
  assert.equal(r.stoppedEarly, true);
  assert.equal(r.steps, 4);
  assert.deepEqual(r.best, { step: 2, loss: 2 });
  assert.ok(bitwiseEqual(model.namedParameters()[0]![1].f32(), weights[1]!), "weights of step 2 restored");
  assert.deepEqual((await store.list("es", "s", "best")).map((x) => x.step), [2]);
  assert.deepEqual((await store.list("es", "s")).map((x) => x.step), [4], "the stop itself is checkpointed");
});

test("trainer - an aborted run stops at a step boundary with its checkpoints written", async () => {
  using dir = tempDir();
  const store = M.localCheckpointStore(dir.path);
  const ac = new AbortController();
  await assert.rejects(M.train({
    model: tinyGpt(10), batches: fixedBatches([rows(2, 8, 11, [8, 8])]), steps: 100, signal: ac.signal,
    checkpoints: { store, run: "ab", stage: "s", every: 1, keep: 2, config: null },
    onStep: (r) => { if (r.step === 3) ac.abort(); },
  }), (e) => M.isTrainingAbortedError(e) && e.step === 3);
  assert.deepEqual((await store.list("ab", "s")).map((x) => x.step), [2, 3], "rotation keeps 2; the last write was flushed");
});

test("trainer - linear warm-up then cosine down to minLr", async () => {
  const lrs: number[] = [];
  await M.train({ model: tinyGpt(12), batches: fixedBatches([rows(1, 8, 13, [8])]), steps: 10, lr: 1e-2, warmupSteps: 2, minLr: 1e-3, onStep: (r) => lrs.push(r.lr) });
  assert.ok(Math.abs(lrs[0]! - 5e-3) < 1e-12 && Math.abs(lrs[1]! - 1e-2) < 1e-12);
  for (let i = 2; i < 9; i++) assert.ok(lrs[i + 1]! < lrs[i]!, "decreasing after warm-up");
  assert.ok(lrs[9]! > 1e-3 && lrs[9]! < 1.5e-3);
  await assert.rejects(M.train({ model: tinyGpt(12), batches: fixedBatches([]), steps: 0 }), (e) => M.isModelConfigError(e) && /train\.steps/.test(e.message));
});

test("trainer - a frozen model is refused; evaluation needs batches or a function", async () => {
  await assert.rejects(M.train({ model: tinyGpt(0).freeze(), batches: fixedBatches([]), steps: 1 }), /no trainable parameters/);
  await assert.rejects(M.train({ model: tinyGpt(0), batches: fixedBatches([]), steps: 1, evaluate: { every: 1 } }), (e) => M.isModelConfigError(e) && /batches or fn/.test(e.message));
});

test("trainer - progress: a bar redrawn on a TTY, throttled JSON lines otherwise", () => {
  const p = (step: number) => ({ step, totalSteps: 10, loss: 2, trainLoss: 2.5, valLoss: step > 5 ? 2.25 : null, lr: 1e-3, tokensPerS: 12345, elapsedMs: step * 1000 });
  let t = 0;
  const out: string[] = [];
  const log = M.createProgress({ stream: { write: (s: string) => out.push(s), isTTY: false }, logEveryMs: 5000, now: () => t });
  for (let s = 1; s <= 10; s++) { t = s * 1000; log.update(p(s)); }
  log.close();
  const lines = out.map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.step), [1, 6, 10], "first, then every 5 s, and the last");
  assert.equal(lines[2].val_loss, 2.25);
  assert.equal(lines[2].tokens_per_s, 12345);

  const tty: string[] = [];
  const bar = M.createProgress({ stream: { write: (s: string) => tty.push(s), isTTY: true, columns: 120 }, now: () => t });
  t = 0; bar.update(p(5));
  t = 50; bar.update(p(6)); // throttled
  t = 500; bar.update(p(10));
  bar.close();
  assert.equal(tty.length, 3);
  assert.match(tty[0]!, /^\r\[██████████░░░░░░░░░░\]   5\/10  loss 2\.500  12\.3k tok\/s  ETA 5s/);
  assert.match(tty[1]!, /10\/10  loss 2\.500  val 2\.250/);
  assert.equal(tty[2], "\n");
});

/** A real local store whose writes of the listed steps fail `times` times each (a flaky disk or network). */
function flakyStore(inner: M.CheckpointStore, failing: Map<number, number>): M.CheckpointStore {
  return {
    location: inner.location,
    save: (meta, tensors) => {
      const left = failing.get(meta.step) ?? 0;
      if (left > 0) {
        failing.set(meta.step, left - 1);
        return Promise.reject(new Error(`injected write failure at step ${meta.step}`));
      }
      return inner.save(meta, tensors);
    },
    load: (ref) => inner.load(ref),
    list: (run, stage, kind) => inner.list(run, stage, kind),
    latestGood: (run, stage, kind) => inner.latestGood(run, stage, kind),
    remove: (ref) => inner.remove(ref),
  };
}

test("trainer - the final checkpoint is the last step's: a failed write of it is retried, never replaced by an older one (#16 item 4)", async () => {
  // guards #16 item 4: a failed final write was only counted, and the step-200 checkpoint came back as final
  using dir = tempDir();
  const store = flakyStore(M.localCheckpointStore(dir.path), new Map([[6, 2]]));
  const r = await M.train({
    model: tinyGpt(14), batches: fixedBatches([rows(2, 8, 15, [8, 8])]), steps: 6,
    checkpoints: { store, run: "fin", stage: "s", every: 4, keep: 2, config: null },
  });
  assert.equal(r.checkpoint?.step, 6, "the final checkpoint is at the last step");
  assert.equal(r.checkpointErrors, 2, "both failed writes are counted");
  assert.deepEqual((await store.list("fin", "s")).map((x) => x.step), [4, 6]);

  // the other way: a final write that keeps failing fails the run with a typed, resumable error
  const broken = flakyStore(M.localCheckpointStore(dir.path), new Map([[6, 100]]));
  await assert.rejects(M.train({
    model: tinyGpt(14), batches: fixedBatches([rows(2, 8, 15, [8, 8])]), steps: 6,
    checkpoints: { store: broken, run: "fin2", stage: "s", every: 4, keep: 2, config: null },
  }), (e) => M.isCheckpointWriteError(e) && e.step === 6 && /resume/.test(e.message));
  assert.deepEqual((await broken.list("fin2", "s")).map((x) => x.step), [4], "only the older checkpoint exists, and it was not reported as final");
});
