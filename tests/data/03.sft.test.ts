import { test } from "node:test";
import assert from "node:assert/strict";
import {
  byteTokenizer,
  chatTemplate,
  createSftBatcher,
  fitExample,
  isDataConfigError,
  isDataStateError,
  packRows,
  sftEvalBatches,
  type SftBatcherState,
  type SftItem,
  type TokenBatch,
} from "../../data/mod.js";
import { IGNORE_INDEX } from "../../kernels/constants.js";

const tok = byteTokenizer();
const tpl = chatTemplate({ tokenizer: tok });
const same = (a: TokenBatch, b: TokenBatch) =>
  Buffer.from(a.idx.buffer).equals(Buffer.from(b.idx.buffer)) && Buffer.from(a.targets.buffer).equals(Buffer.from(b.targets.buffer));

test("data - SFT targets ignore prompt tokens and padding, and count response tokens", () => {
  const ex = tpl.encodeExample("12+7=", "19");
  const T = 24;
  const b = packRows([ex], 1, T, tok.eot);
  const L = ex.ids.length; // "Q: 12+7=\nA: " (12) + "19" + eot = 15
  assert.equal(ex.promptLen, 12);
  assert.equal(L, 15);
  for (let t = 0; t < T; t++) {
    if (t < L - 1) assert.equal(b.idx[t], ex.ids[t]);
    else assert.equal(b.idx[t], tok.eot, "padding input");
    const isResponseTarget: boolean = t + 1 >= ex.promptLen && t + 1 < L;
    assert.equal(b.targets[t], isResponseTarget ? ex.ids[t + 1] : IGNORE_INDEX, `position ${t}`);
  }
  assert.equal(b.tokens, 3); // "1", "9", end marker
  assert.equal(tok.decode([...b.targets].filter((x) => x !== IGNORE_INDEX)), "19\x03");
});

test("data - a batch's token count is the number of response tokens of its rows", () => {
  const pairs: [string, string][] = [["copy abc", "abc"], ["sort 31", "13"], ["count a in aa", "2"], ["x", "déjà"]];
  const items = pairs.map(([p, r]) => tpl.encodeExample(p, r));
  const b = packRows(items, 6, 32, tok.eot);
  const want = pairs.reduce((n, [, r]) => n + Buffer.byteLength(r) + 1, 0);
  assert.equal(b.tokens, want);
  assert.equal([...b.targets].filter((x) => x !== IGNORE_INDEX).length, want);
  // rows 4 and 5 are empty padding
  assert.ok(b.targets.subarray(4 * 32).every((x) => x === IGNORE_INDEX));
});

test("data - long examples are skipped, or truncated from the left of the prompt", () => {
  const ex = tpl.encodeExample("p".repeat(40), "answer"); // 3+40+4 + 6 + 1 = 54 tokens
  assert.equal(ex.ids.length, 54);
  const skipped = fitExample(ex, 32, "skip");
  assert.equal(skipped.ok, false);
  assert.ok(!skipped.ok && skipped.reason === "too long");
  const cut = fitExample(ex, 32, "truncate");
  assert.ok(cut.ok && cut.truncated);
  assert.equal(cut.item.ids.length, 32);
  assert.equal(tok.decode(cut.item.ids.subarray(cut.item.promptLen)), "answer\x03");
  assert.equal(tok.decode(cut.item.ids.subarray(cut.item.promptLen - 4, cut.item.promptLen)), "\nA: ");
  const tooLong = fitExample(tpl.encodeExample("p", "r".repeat(40)), 32, "truncate");
  assert.ok(!tooLong.ok && tooLong.reason === "response too long");
  assert.ok(fitExample(ex, 54, "skip").ok);
});

function items(n: number): SftItem[] {
  return Array.from({ length: n }, (_, i) => tpl.encodeExample(`copy ${i}`, String(i)));
}
const rowKey = (b: TokenBatch, r: number) => tok.decode(b.idx.subarray(r * b.T, r * b.T + 12));

test("data - the SFT batcher visits every example once per epoch, in a seeded order", () => {
  const data = items(10);
  const s = createSftBatcher(data, { batch: 5, block: 16, seed: 3, pad: tok.eot });
  const epoch0 = [s.next(), s.next()].flatMap((b) => [0, 1, 2, 3, 4].map((r) => rowKey(b, r)));
  assert.equal(new Set(epoch0).size, 10);
  assert.equal(s.epoch, 1);
  const epoch1 = [s.next(), s.next()].flatMap((b) => [0, 1, 2, 3, 4].map((r) => rowKey(b, r)));
  assert.equal(new Set(epoch1).size, 10);
  assert.notDeepEqual(epoch0, epoch1, "each epoch reshuffles");
  const again = createSftBatcher(data, { batch: 5, block: 16, seed: 3, pad: tok.eot });
  const first = [again.next(), again.next()].flatMap((b) => [0, 1, 2, 3, 4].map((r) => rowKey(b, r)));
  assert.deepEqual(first, epoch0);
});

test("data - a restored SFT batcher replays the identical batches bitwise, across epochs", () => {
  const data = items(7); // batch 3 does not divide 7: batches straddle epochs
  const opts = { batch: 3, block: 16, seed: 9, pad: tok.eot };
  const a = createSftBatcher(data, opts);
  for (let i = 0; i < 4; i++) a.next();
  const saved = JSON.stringify(a.state());
  const expected = Array.from({ length: 9 }, () => a.next());
  const b = createSftBatcher(data, opts);
  b.restore(JSON.parse(saved) as SftBatcherState);
  for (const want of expected) assert.ok(same(b.next(), want));
  assert.equal(b.step, 13);
});

test("data - SFT states only restore into the same data, shape and seed", () => {
  const a = createSftBatcher(items(7), { batch: 3, block: 16, seed: 9, pad: tok.eot });
  const st = a.state();
  assert.throws(() => createSftBatcher(items(8), { batch: 3, block: 16, seed: 9, pad: tok.eot }).restore(st), isDataStateError);
  assert.throws(() => createSftBatcher(items(7), { batch: 3, block: 16, seed: 10, pad: tok.eot }).restore(st), isDataStateError);
  assert.throws(() => a.restore({ ...st, cursor: 7 }), isDataStateError);
});

test("data - examples that do not fit block+1 are refused with a DataConfigError", () => {
  assert.throws(() => createSftBatcher([tpl.encodeExample("long prompt here", "x")], { batch: 1, block: 8, seed: 1, pad: 3 }), isDataConfigError);
  assert.throws(() => createSftBatcher([], { batch: 1, block: 8, seed: 1, pad: 3 }), isDataConfigError);
});

test("data - SFT eval batches cover each example once in order", () => {
  const data = items(7);
  const batches = sftEvalBatches(data, { batch: 3, block: 16, pad: tok.eot });
  assert.equal(batches.length, 3);
  const total = data.reduce((n, it) => n + it.ids.length - it.promptLen, 0);
  assert.equal(batches.reduce((n, b) => n + b.tokens, 0), total);
  assert.equal(rowKey(batches[2]!, 0), rowKey(packRows([data[6]!], 1, 16, tok.eot), 0));
});
