import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  corpusFromText,
  createWindowSampler,
  evalWindows,
  isCorpusError,
  isDataStateError,
  loadTextCorpus,
  splitIndex,
  type TokenBatch,
  type WindowSamplerState,
} from "../../data/mod.js";
import { IGNORE_INDEX } from "../../kernels/constants.js";
import { sharedPath } from "../../bench/shared.js";
import { testNeeding } from "../harness/needs.js";

const SHAKESPEARE = sharedPath("data/tinyshakespeare/input.txt");
const iota = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const same = (a: TokenBatch, b: TokenBatch) =>
  Buffer.from(a.idx.buffer).equals(Buffer.from(b.idx.buffer)) && Buffer.from(a.targets.buffer).equals(Buffer.from(b.targets.buffer));

test("data - the validation split is the last 10% of the token stream", () => {
  const text = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
  const c = corpusFromText(text);
  assert.equal(c.splitAt, 900);
  assert.equal(c.train.length, 900);
  assert.equal(c.val.length, 100);
  assert.equal(c.train[899], text.charCodeAt(899));
  assert.equal(c.val[0], text.charCodeAt(900));
  assert.equal(splitIndex(1005), 1005 - 100);
  assert.equal(splitIndex(1005, 0.5), 1005 - 502);
  assert.equal(corpusFromText(text, { valFraction: 0.25 }).splitAt, 750);
});

testNeeding("data - tinyshakespeare loads as bytes with a fixed split", existsSync(SHAKESPEARE) ? null : `${SHAKESPEARE} not present (the shared data lives in ../shared beside the repository; or set TROUPE_SHARED)`, async () => {
  const c = await loadTextCorpus(SHAKESPEARE);
  assert.equal(c.tokens.length, 1115394);
  assert.equal(c.splitAt, 1115394 - 111539);
  assert.equal(c.vocabSize, 256);
  assert.ok(c.val.every((t) => t >= 0 && t < 256));
  assert.equal(String.fromCharCode(...c.tokens.subarray(0, 14)), "First Citizen:");
});

test("data - a missing corpus file is a CorpusError", async () => {
  await assert.rejects(loadTextCorpus("/nonexistent/corpus.txt"), isCorpusError);
});

test("data - random windows are contiguous (idx, next-token targets) slices inside the stream", () => {
  const n = 500;
  const T = 16;
  const s = createWindowSampler(iota(n), { batch: 8, block: T, seed: 1 });
  const starts = new Set<number>();
  for (let step = 0; step < 50; step++) {
    const b = s.next();
    assert.equal(b.idx.length, 8 * T);
    assert.equal(b.tokens, 8 * T);
    for (let r = 0; r < 8; r++) {
      const start = b.idx[r * T]!;
      starts.add(start);
      assert.ok(start + T <= n - 1, `window at ${start} runs past the stream`);
      for (let t = 0; t < T; t++) {
        assert.equal(b.idx[r * T + t], start + t);
        assert.equal(b.targets[r * T + t], start + t + 1);
      }
    }
  }
  // 400 uniform draws over 484 starts give ~272 distinct ones; both ends must be reachable.
  assert.ok(starts.size > 230, `starts should spread over the stream, got ${starts.size} distinct`);
  assert.ok(Math.min(...starts) < 20 && Math.max(...starts) > n - T - 1 - 20);
  assert.equal(s.step, 50);
});

test("data - windows are seeded: same seed same batches, other seed other batches", () => {
  const stream = iota(10_000);
  const a = createWindowSampler(stream, { batch: 4, block: 8, seed: 11 });
  const b = createWindowSampler(stream, { batch: 4, block: 8, seed: 11 });
  const c = createWindowSampler(stream, { batch: 4, block: 8, seed: 12 });
  for (let i = 0; i < 20; i++) {
    const x = a.next();
    assert.ok(same(x, b.next()));
    assert.ok(!same(x, c.next()));
  }
});

test("data - a restored sampler replays the identical batches bitwise (kill and resume)", () => {
  const stream = corpusFromText("To be, or not to be, that is the question. ".repeat(200)).train;
  const opts = { batch: 4, block: 32, seed: 2024 };
  const first = createWindowSampler(stream, opts);
  for (let i = 0; i < 7; i++) first.next();
  const saved = JSON.stringify(first.state()); // what a checkpoint stores
  const expected = Array.from({ length: 10 }, () => first.next());

  const resumed = createWindowSampler(stream, { ...opts, seed: 1 }); // seed is overridden by the state
  resumed.restore(JSON.parse(saved) as WindowSamplerState);
  assert.equal(resumed.step, 7);
  for (const want of expected) assert.ok(same(resumed.next(), want));
  assert.equal(resumed.step, 17);
});

test("data - a sampler state does not restore into a different stream or shape", () => {
  const a = createWindowSampler(iota(1000), { batch: 4, block: 8, seed: 1 });
  const st = a.state();
  assert.throws(() => createWindowSampler(iota(1001), { batch: 4, block: 8, seed: 1 }).restore(st), isDataStateError);
  assert.throws(() => createWindowSampler(iota(1000), { batch: 2, block: 8, seed: 1 }).restore(st), isDataStateError);
  const other = iota(1000);
  other[5] = 77;
  assert.throws(() => createWindowSampler(other, { batch: 4, block: 8, seed: 1 }).restore(st), isDataStateError);
  assert.throws(() => a.restore({ ...st, kind: "sft" } as unknown as WindowSamplerState), isDataStateError);
});

test("data - a stream shorter than block+1 is a CorpusError", () => {
  assert.throws(() => createWindowSampler(iota(8), { batch: 1, block: 8, seed: 1 }), isCorpusError);
  assert.doesNotThrow(() => createWindowSampler(iota(9), { batch: 1, block: 8, seed: 1 }).next());
});

test("data - validation windows cover the stream once, in order, padding ignored", () => {
  const n = 105;
  const T = 10;
  const batches = evalWindows(iota(n), { batch: 4, block: T });
  // floor((105-1)/10) = 10 windows → batches of 4, 4, 2
  assert.equal(batches.length, 3);
  assert.deepEqual(batches.map((b) => b.tokens), [40, 40, 20]);
  const seen: number[] = [];
  for (const b of batches) for (let i = 0; i < b.targets.length; i++) if (b.targets[i] !== IGNORE_INDEX) seen.push(b.idx[i]!);
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  assert.equal(evalWindows(iota(n), { batch: 4, block: T, maxBatches: 1 }).length, 1);
});
