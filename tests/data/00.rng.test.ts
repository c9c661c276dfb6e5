import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, deriveSeed, isDataStateError, seedState, type RngState } from "../../data/mod.js";

const draw = (rng: { u32(): number }, n: number) => Array.from({ length: n }, () => rng.u32());

test("data - xoshiro128** matches the reference C implementation for state [1,2,3,4]", () => {
  // Output of the reference xoshiro128starstar.c (Blackman & Vigna) seeded with s = {1,2,3,4}.
  const rng = createRng({ kind: "xoshiro128**", s: [1, 2, 3, 4] });
  assert.deepEqual(draw(rng, 8), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
});

test("data - the same seed gives the same stream and different seeds differ", () => {
  assert.deepEqual(draw(createRng(7), 100), draw(createRng(7), 100));
  assert.notDeepEqual(draw(createRng(7), 100), draw(createRng(8), 100));
  // seeds beyond 32 bits and negative seeds are distinct streams too
  assert.notDeepEqual(seedState(1).s, seedState(1 + 2 ** 32).s);
  assert.notDeepEqual(seedState(-1).s, seedState(1).s);
});

test("data - restore(state()) replays the stream bitwise, also through JSON", () => {
  const a = createRng(42);
  draw(a, 37);
  a.float();
  a.normal();
  const saved = JSON.parse(JSON.stringify(a.state())) as RngState;
  const ahead = [...draw(a, 50), a.float(), a.int(1000), a.normal()];
  const b = createRng(999);
  b.restore(saved);
  assert.deepEqual([...draw(b, 50), b.float(), b.int(1000), b.normal()], ahead);
});

test("data - int(n) is in range and close to uniform; float is in [0, 1); normal is standard", () => {
  const rng = createRng(3);
  const counts = new Array<number>(10).fill(0);
  const N = 100_000;
  for (let i = 0; i < N; i++) counts[rng.int(10)]!++;
  for (const c of counts) assert.ok(Math.abs(c - N / 10) < N / 100, `bucket count ${c} too far from ${N / 10}`);
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < N; i++) {
    const f = rng.float();
    assert.ok(f >= 0 && f < 1);
    const z = rng.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / N) < 0.02, `normal mean ${sum / N}`);
  assert.ok(Math.abs(sq / N - 1) < 0.03, `normal variance ${sq / N}`);
  assert.throws(() => rng.int(0), RangeError);
});

test("data - shuffle is a seeded permutation", () => {
  const a = createRng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
  const b = createRng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
});

test("data - malformed RNG states are rejected with DataStateError", () => {
  const rng = createRng(1);
  const bad = [
    { kind: "xoshiro128**", s: [0, 0, 0, 0] },
    { kind: "xoshiro128**", s: [1, 2, 3] },
    { kind: "xoshiro128**", s: [1, 2, 3, 2 ** 32] },
    { kind: "xoshiro128**", s: [1, 2, 3, 1.5] },
    { kind: "pcg32", s: [1, 2, 3, 4] },
    null,
  ];
  for (const s of bad) assert.throws(() => rng.restore(s as unknown as RngState), isDataStateError, JSON.stringify(s));
});

test("data - deriveSeed gives independent seeds per label path", () => {
  const seeds = new Set([
    deriveSeed(1, "a"),
    deriveSeed(1, "b"),
    deriveSeed(2, "a"),
    deriveSeed(1, "a", "easy"),
    deriveSeed(1, "a", "hard"),
    deriveSeed(1, "sft-epoch", 0),
    deriveSeed(1, "sft-epoch", 1),
  ]);
  assert.equal(seeds.size, 7);
  assert.equal(deriveSeed(1, "a", 3), deriveSeed(1, "a", 3));
});
