import { test } from "node:test";
import assert from "node:assert/strict";
import { createScoreboard, generatePack, normalizeAnswer, score } from "../../data/mod.js";

test("data - exact match normalizes by stopping at the end marker and trimming", () => {
  assert.equal(score("19", "19"), true);
  assert.equal(score("19\x03Q: 3+4=", "19"), true);
  assert.equal(score("  19 \n", "19"), true);
  assert.equal(score("019", "19"), false);
  assert.equal(score("1", "19"), false);
  assert.equal(score("Yes", "yes"), false);
  assert.equal(score("", "0"), false);
  assert.equal(score("\x0319", "19"), false);
  assert.equal(normalizeAnswer(" ab c \x03 d"), "ab c");
});

test("data - the scoreboard aggregates per domain, difficulty and cell", () => {
  const board = createScoreboard();
  board.add({ domain: "copying", difficulty: "easy" }, "abc", "abc");
  board.add({ domain: "copying", difficulty: "easy" }, "abd", "abc");
  board.add({ domain: "copying", difficulty: "hard" }, "x1y2", "x1y2");
  board.add({ domain: "sorting", difficulty: "easy" }, "123", "123");
  assert.equal(board.add({}, "no", "yes"), false);
  const s = board.summary();
  assert.deepEqual(s.overall, { n: 5, correct: 3, accuracy: 0.6 });
  assert.deepEqual(s.byDomain.copying, { n: 3, correct: 2, accuracy: 2 / 3 });
  assert.deepEqual(s.byDifficulty.easy, { n: 3, correct: 2, accuracy: 2 / 3 });
  assert.deepEqual(s.byCell["copying/easy"], { n: 2, correct: 1, accuracy: 0.5 });
  assert.deepEqual(s.byCell["unspecified/unspecified"], { n: 1, correct: 0, accuracy: 0 });
});

test("data - a perfect answerer scores 1 on the held-out pack, a constant one does not", () => {
  const { heldOut } = generatePack({ seed: 3, trainPerCell: 0, heldOutPerCell: 20 });
  const perfect = createScoreboard();
  const constant = createScoreboard();
  for (const r of heldOut) {
    perfect.add(r.metadata, r.response + "\x03", r.response);
    constant.add(r.metadata, "yes", r.response);
  }
  assert.equal(perfect.summary().overall.accuracy, 1);
  const c = constant.summary();
  assert.equal(c.byDomain.arithmetic!.accuracy, 0);
  assert.ok(c.byDomain.brackets!.accuracy > 0 && c.byDomain.brackets!.accuracy < 1);
});
