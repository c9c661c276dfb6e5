// Stage 0's split-layer map from logit-lens agreement counts (pure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { countAgreement, interleaveDomains, splitLayerMap } from "../../actors/cast/mod.js";
import { IGNORE_INDEX } from "../../kernels/mod.js";

const X = IGNORE_INDEX;

test("split map - counts agreement with the final layer on response tokens only, per domain", () => {
  // L = 2 candidates, B = 2 rows, T = 3 positions; lens [L + 1, B, T]
  const lens = Int32Array.from([
    // layer 0
    1, 9, 9, /**/ 5, 6, 0,
    // layer 1
    1, 2, 9, /**/ 5, 6, 7,
    // final
    1, 2, 3, /**/ 5, 6, 7,
  ]);
  const targets = Int32Array.from([X, 2, 3, /**/ 5, 6, 7]);
  const c = countAgreement(lens, targets, 2, 2, 3, ["copying", "sorting"]);
  assert.deepEqual(c, {
    copying: { tokens: 2, agree: [0, 1] }, // position 0 is the prompt: not counted
    sorting: { tokens: 3, agree: [2, 3] },
  });
  const m = splitLayerMap(c, [0, 1], 0.9);
  assert.deepEqual(m.layers, [0, 1]);
  assert.deepEqual(m.overall, { agreement: { "0": 2 / 5, "1": 4 / 5 }, split: null, tokens: 5 });
  assert.deepEqual(m.byDomain.sorting, { agreement: { "0": 2 / 3, "1": 1 }, split: 1, tokens: 3 });
  assert.equal(m.byDomain.copying!.split, null);
  assert.equal(splitLayerMap(c, [0, 1], 0.5).overall.split, 1, "the earliest layer that reaches the bar");
  assert.equal(splitLayerMap(c, [0, 1], 0.4).overall.split, 0);
});

test("split map - padding rows beyond the domains given are ignored; a domain without tokens has no agreement", () => {
  const lens = new Int32Array(2 * 2 * 2); // L = 1, B = 2, T = 2
  const targets = Int32Array.from([X, X, 4, 4]);
  const c = countAgreement(lens, targets, 1, 2, 2, ["arithmetic"]);
  assert.deepEqual(c, { arithmetic: { tokens: 0, agree: [0] } });
  const m = splitLayerMap(c, [3], 0.9);
  assert.ok(Number.isNaN(m.byDomain.arithmetic!.agreement["3"]));
  assert.equal(m.overall.split, null);
});

test("lanes - interleaving domains puts every domain in any long enough prefix, stably", () => {
  const items = ["a1", "a2", "a3", "b1", "c1", "c2"].map((id) => ({ id, domain: id[0]! }));
  assert.deepEqual(interleaveDomains(items).map((i) => i.id), ["a1", "b1", "c1", "a2", "c2", "a3"]);
});
