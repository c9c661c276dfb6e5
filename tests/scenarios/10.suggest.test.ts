import { test } from "node:test";
import assert from "node:assert/strict";
import { closest, didYouMean, editDistance } from "../../scenarios/mod.js";

test("suggest - edit distance counts insertions, deletions, substitutions and swaps", () => {
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("linaer", "linear"), 1, "a swap is one edit");
  assert.equal(editDistance("same", "same"), 0);
});

test("suggest - the closest key within a typo's distance is suggested", () => {
  assert.equal(closest("n_embed", ["vocab", "n_embd", "n_head"]), "n_embd");
  assert.equal(closest("curiculum", ["run", "curriculum", "limits"]), "curriculum");
  assert.equal(closest("nlayer", ["n_layer", "n_head"]), "n_layer");
  assert.equal(closest("zzzzzz", ["run", "model"]), null, "nothing close: no suggestion");
  assert.equal(didYouMean("modle", ["model", "run"]), ' (did you mean "model"?)');
  assert.equal(didYouMean("xyz", ["model"]), "");
});
