// models - the rule-based weak labeler of the semantic projection on prompt-pack examples.
import { test } from "node:test";
import assert from "node:assert/strict";
import { M } from "../helpers.js";
import * as D from "../../../data/mod.js";

function item(prompt: string, response: string): M.LabelInput {
  const ex = D.chatTemplate({ tokenizer: D.byteTokenizer() }).encodeExample(prompt, response);
  return { prompt, response, ids: ex.ids, promptLen: ex.promptLen };
}

function active(labels: Uint8Array, step: number): string[] {
  const P = M.STEP_VOCABULARY.length;
  return M.STEP_VOCABULARY.filter((_, p) => labels[step * P + p] === 1);
}

test("weak labels - copying walks the input: transition, echo, stabilize, prefix_of_input; the end marker returns", () => {
  const l = M.ruleLabeler().label(item("copy abc", "abc"));
  assert.equal(l.length, 4 * M.STEP_VOCABULARY.length, "3 response tokens and the end marker");
  assert.deepEqual(active(l, 0), ["transition", "echo", "prefix_of_input"]);
  assert.deepEqual(active(l, 1), ["stabilize", "echo", "prefix_of_input", "sorted_so_far"]);
  assert.deepEqual(active(l, 3), ["return"]);
});

test("weak labels - reversal, runs and kind shifts", () => {
  const rev = M.ruleLabeler().label(item("reverse abc", "cba"));
  assert.deepEqual(active(rev, 1), ["stabilize", "echo", "prefix_of_reversed"]);
  const run = M.ruleLabeler().label(item("sort 3113", "1133"));
  assert.ok(active(run, 1).includes("dwell"), "1 then 1");
  assert.ok(active(run, 3).includes("sorted_so_far"));
  const sum = M.ruleLabeler().label(item("count a in abca", "2"));
  assert.deepEqual(active(sum, 0), ["transition"], "a count's digit is not in the operand");
});

test("weak labels - an example labeler broadcasts per-example labels; a bad one is a typed error", () => {
  const vocab = ["x", "y"];
  const lab = M.exampleLabeler(vocab, () => Uint8Array.of(1, 0));
  const l = lab.label(item("copy ab", "ab"));
  assert.deepEqual([...l], [1, 0, 1, 0, 1, 0]);
  assert.throws(() => M.exampleLabeler(vocab, () => null).label(item("copy ab", "ab")), (e) => M.isModelConfigError(e));
});
