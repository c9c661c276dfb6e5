// data - sharding global batches across data-parallel ranks (guards #13: Thunder-Train must
// equal single-host training on the combined batch, and resume on another number of hosts).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  byteTokenizer,
  chatTemplate,
  createSftBatcher,
  createWindowSampler,
  isDataConfigError,
  isDataStateError,
  shardBatches,
  type TokenBatch,
} from "../../data/mod.js";

const stream = Int32Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) % 256);
const windows = (batch: number) => createWindowSampler(stream, { batch, block: 16, seed: 3 });

function concat(parts: TokenBatch[]): { idx: number[]; targets: number[]; tokens: number; B: number } {
  return {
    idx: parts.flatMap((p) => [...p.idx]),
    targets: parts.flatMap((p) => [...p.targets]),
    tokens: parts.reduce((a, p) => a + p.tokens, 0),
    B: parts.reduce((a, p) => a + p.B, 0),
  };
}

test("data - shards of W ranks together are exactly the global batch, in row order", () => {
  const global = windows(8);
  const shards = [0, 1, 2].map((rank) => shardBatches(windows(8), { rank, world: 3 }));
  for (let step = 0; step < 4; step++) {
    const g = global.next();
    const parts = shards.map((s) => s.next());
    assert.deepEqual(parts.map((p) => p.B), [2, 3, 3], "rows ⌊rG/W⌋..⌊(r+1)G/W⌋");
    const c = concat(parts);
    assert.deepEqual(c.idx, [...g.idx]);
    assert.deepEqual(c.targets, [...g.targets]);
    assert.equal(c.tokens, g.tokens);
  }
});

test("data - SFT shards count their own non-ignored targets (unequal token counts per rank)", () => {
  const tpl = chatTemplate({ tokenizer: byteTokenizer() });
  const items = ["1+1=", "22+22=", "333+333=", "4444+4444=", "5+5=", "66+6="].map((q, i) => tpl.encodeExample(q, String(i * 1234567)));
  const make = () => createSftBatcher(items, { batch: 4, block: 40, seed: 1, pad: 0 });
  const g = make().next();
  const parts = [0, 1].map((rank) => shardBatches(make(), { rank, world: 2 }).next());
  assert.equal(parts[0]!.tokens + parts[1]!.tokens, g.tokens);
  assert.notEqual(parts[0]!.tokens, parts[1]!.tokens, "the examples differ in length, so the ranks' token counts do");
});

test("data - microRows cuts a rank's share into micro-batches; the state at a step boundary resumes on another world size", () => {
  const two = [0, 1].map((rank) => shardBatches(windows(8), { rank, world: 2, microRows: 2 }));
  assert.equal(two[0]!.microBatchesOf(8), 2);
  for (let step = 0; step < 3; step++) for (const s of two) [s.next(), s.next()];
  const saved = two[0]!.state();
  assert.equal(saved.at, 0);
  assert.deepEqual(saved, two[1]!.state(), "every rank saves the same state");
  const one = shardBatches(windows(8), { rank: 0, world: 1, microRows: 2 });
  one.restore(JSON.parse(JSON.stringify(saved)));
  assert.equal(one.microBatchesOf(8), 4);
  const alone = concat([one.next(), one.next(), one.next(), one.next()]);
  const together = concat([two[0]!.next(), two[0]!.next(), two[1]!.next(), two[1]!.next()]);
  assert.deepEqual(alone, together, "world 1 continues with the same global batch the two ranks would have taken");
});

test("data - a state taken mid-batch restores to the same next micro-batch; bad options and states are refused", () => {
  const s = shardBatches(windows(6), { rank: 1, world: 2, microRows: 1 });
  s.next();
  const mid = s.state();
  assert.equal(mid.at, 1);
  const want = s.next();
  const t = shardBatches(windows(6), { rank: 1, world: 2, microRows: 1 });
  t.restore(mid);
  assert.deepEqual([...t.next().idx], [...want.idx]);
  assert.throws(() => shardBatches(windows(6), { rank: 2, world: 2 }), (e) => isDataConfigError(e) && /below world 2/.test(e.message));
  assert.throws(() => t.restore({ kind: "windows" } as never), (e) => isDataStateError(e) && /shard state/.test(e.message));
});
