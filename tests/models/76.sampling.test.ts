// guards #10: the sampling users expect — top-p keeps the smallest set of tokens reaching p, the
// repetition penalty makes seen tokens less likely, temperature 0 is greedy after the penalty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseToken, penalize, sample } from "../../models/mod.js";

const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);

test("sampling - top-p keeps the smallest most-likely set reaching p; 1 keeps all, as plain sampling does", () => {
  const draws = (topP: number) => new Set(Array.from({ length: 200 }, (_, i) => chooseToken(logits, [], { temperature: 1, topP }, i / 200)));
  assert.deepEqual([...draws(0.5)], [0], "0.5 is reached by the first token");
  assert.deepEqual([...draws(0.6)].sort(), [0, 1]);
  assert.deepEqual([...draws(1)].sort(), [0, 1, 2]);
  // within the nucleus, probabilities are renormalized: 0.5/0.8 for token 0
  assert.equal(chooseToken(logits, [], { temperature: 1, topP: 0.6 }, 0.62), 0);
  assert.equal(chooseToken(logits, [], { temperature: 1, topP: 0.6 }, 0.63), 1);
  for (const u of [0.1, 0.49, 0.51, 0.79, 0.81, 0.99]) assert.equal(chooseToken(logits, [], { temperature: 1 }, u), sample(logits, 1, undefined, u));
});

test("sampling - the repetition penalty lowers seen tokens (positive logits divided, negative multiplied); greedy follows it", () => {
  const x = Float32Array.from([2, 1.9, -1]);
  assert.deepEqual([...penalize(x, [0, 2], 2)], [1, 1.899999976158142, -2]);
  assert.equal(chooseToken(x, [], { temperature: 0 }, 0), 0);
  assert.equal(chooseToken(x, [0], { temperature: 0, repetitionPenalty: 1.2 }, 0), 1, "the seen best token gives way");
  assert.equal(chooseToken(x, [0], { temperature: 0, repetitionPenalty: 1 }, 0), 0, "1 is off");
});
