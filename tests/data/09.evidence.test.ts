// Evidence for gates (data/evidence): trivial baselines, confidence intervals, and a score
// measured against the best of its references. Each figure is also shown moving the other way.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bootstrapStat,
  compareAgainstReferences,
  compareMeans,
  generatePack,
  isDataConfigError,
  pairedBootstrap,
  trivialBaselines,
  wilson,
  zFor,
} from "../../data/mod.js";

const items = (answers: string[], domain = "counting") => answers.map((response) => ({ response, domain }));
const ones = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));

test("evidence - the constant baseline is the answer right most often, compared as the scorer compares", () => {
  const held = items(["1", "2", " 1", "1\x03junk", "0", "2"]);
  const [constant] = trivialBaselines(held);
  assert.equal(constant!.name, "constant");
  assert.deepEqual(constant!.answers, { "*": "1" });
  assert.equal(constant!.describe, 'always "1"');
  assert.deepEqual([...constant!.hits], [1, 0, 1, 1, 0, 0], "trimmed and cut at the end marker like any answer");
  // ties go to the answer that sorts first, so two runs agree
  assert.deepEqual(trivialBaselines(items(["b", "a", "b", "a"]))[0]!.answers, { "*": "a" });
});

test("evidence - with several domains a per-domain majority is added; with training items the majority class", () => {
  const held = [...items(["no", "no", "yes"], "brackets"), ...items(["1", "1", "2"], "counting")];
  const train = [...items(["yes", "yes", "no"], "brackets"), ...items(["2", "2", "1"], "counting")];
  const all = trivialBaselines(held, train);
  assert.deepEqual(all.map((b) => b.name), ["constant", "majority_by_domain", "train_majority"]);
  const byName = Object.fromEntries(all.map((b) => [b.name, b]));
  assert.deepEqual(byName.majority_by_domain!.answers, { brackets: "no", counting: "1" });
  assert.equal([...byName.majority_by_domain!.hits].reduce((a, b) => a + b, 0), 4);
  assert.equal(byName.majority_by_domain!.describe, 'per domain: brackets "no", counting "1"');
  // the majority class is learned from training, so it can be worse on held-out than the held-out mode
  assert.deepEqual(byName.train_majority!.answers, { brackets: "yes", counting: "2" });
  assert.equal([...byName.train_majority!.hits].reduce((a, b) => a + b, 0), 2);
  assert.deepEqual(trivialBaselines(items(["1"])).map((b) => b.name), ["constant"], "one domain: no per-domain baseline");
  assert.throws(() => trivialBaselines([]), isDataConfigError);
});

test("evidence - on the pack's counting held-out set, always answering 1 is right 42 % of the time", () => {
  // guards #14: the tiny scenario's old stage-1 gate passed an adapter scoring 0.38 here
  const held = generatePack({ seed: 5, domains: ["counting"], difficulties: ["easy"] }).heldOut.map((r) => ({ response: r.response, domain: "counting" }));
  const [constant] = trivialBaselines(held);
  assert.deepEqual(constant!.answers, { "*": "1" });
  assert.equal([...constant!.hits].reduce((a, b) => a + b, 0) / held.length, 0.42);
});

test("evidence - Wilson intervals match the closed form and stay inside [0, 1]", () => {
  assert.ok(Math.abs(zFor(0.95) - 1.959963984540054) < 1e-8);
  const near = (got: readonly number[], want: number[]) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-9, `${got} vs ${want}`));
  near(wilson(21, 50), [0.2937500335471198, 0.5576655823142176]);
  near(wilson(0, 10), [0, 0.2775327998628892]);
  near(wilson(10, 10), [0.7224672001371107, 1]);
  assert.ok(wilson(5, 10, 0.99)[0] < wilson(5, 10, 0.9)[0], "a higher level is wider");
  assert.ok(wilson(50, 100)[1] - wilson(50, 100)[0] < wilson(5, 10)[1] - wilson(5, 10)[0], "more items, narrower");
  assert.throws(() => wilson(11, 10), isDataConfigError);
  assert.throws(() => wilson(1, 0), isDataConfigError);
  assert.throws(() => zFor(1), isDataConfigError);
});

test("evidence - the paired bootstrap is seeded, pairs items, and is zero-width when nothing differs", () => {
  assert.deepEqual(pairedBootstrap(ones(50, 20), ones(50, 20)), [0, 0]);
  assert.deepEqual(pairedBootstrap(ones(50, 50), ones(50, 0)), [1, 1]);
  const a = Uint8Array.from({ length: 80 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const b = Uint8Array.from({ length: 80 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  assert.deepEqual(pairedBootstrap(a, b, { seed: 3 }), pairedBootstrap(a, b, { seed: 3 }));
  const [lo, hi] = pairedBootstrap(a, b);
  const gain = a.reduce((s, x) => s + x, 0) / 80 - b.reduce((s, x) => s + x, 0) / 80;
  assert.ok(lo < gain && gain < hi, `${lo} < ${gain} < ${hi}`);
  assert.throws(() => pairedBootstrap(a, b.subarray(1)), /same items/);
});

test("evidence - the gain is over the best reference; a constant-answer model gains nothing", () => {
  const held = items(["1", "1", "1", "2", "3", "0", "1", "2", "1", "4"]);
  const [constant] = trivialBaselines(held);
  const base = { name: "base", kind: "named" as const, hits: new Uint8Array(10) };
  const trivial = { name: "constant", kind: "trivial" as const, hits: constant!.hits, detail: constant!.describe };
  // a model that always says "1": 5 of 10, all of them where the constant is right
  const e = compareAgainstReferences({ measure: "exact match", score: { name: "adapted", hits: constant!.hits }, references: [base, trivial] });
  assert.equal(e.score.value, 0.5);
  assert.equal(e.against, "constant");
  assert.equal(e.gain, 0);
  assert.deepEqual(e.gain_ci, [0, 0]);
  assert.deepEqual(e.references.map((r) => [r.name, r.kind, r.value]), [["base", "named", 0], ["constant", "trivial", 0.5]]);
  // the other way: a model right everywhere gains 0.5 over the same best reference
  const good = compareAgainstReferences({ measure: "exact match", score: { name: "adapted", hits: ones(10, 10) }, references: [base, trivial] });
  assert.equal(good.gain, 0.5);
  assert.ok(good.gain_ci[0] > 0);
  // a tie between the named and a trivial reference names the trivial one
  const tie = compareAgainstReferences({ measure: "m", score: { name: "s", hits: ones(10, 6) }, references: [{ ...base, hits: constant!.hits }, trivial] });
  assert.equal(tie.against, "constant");
  assert.equal(JSON.parse(JSON.stringify(e)).gain, 0, "plain JSON");
});

test("evidence - bad inputs are typed errors naming what is wrong", () => {
  const ref = { name: "constant", kind: "trivial" as const, hits: ones(4, 1) };
  assert.throws(() => compareAgainstReferences({ measure: "m", score: { name: "s", hits: ones(5, 1) }, references: [ref] }), /constant has 4 items, the score has 5/);
  assert.throws(() => compareAgainstReferences({ measure: "m", score: { name: "s", hits: [0, 2, 1, 0] }, references: [ref] }), /expected 0 or 1 per item, got 2 at item 1/);
  assert.throws(() => compareAgainstReferences({ measure: "m", score: { name: "s", hits: [] }, references: [ref] }), isDataConfigError);
  assert.throws(() => compareAgainstReferences({ measure: "m", score: { name: "s", hits: ones(4, 1) }, references: [] }), /at least one reference/);
});

test("evidence - means of continuous values: lower is better, the gain is how much lower than the best reference", () => {
  const kl = (base: number, n = 40) => Float32Array.from({ length: n }, (_, i) => base + ((i * 7) % 5) * 0.01);
  const e = compareMeans({
    measure: "KL per token",
    direction: "lower",
    score: { name: "residual", values: kl(0.05) },
    references: [{ name: "lens", kind: "named", values: kl(0.2) }, { name: "constant", kind: "trivial", values: kl(2) }],
  });
  assert.equal(e.direction, "lower");
  assert.equal(e.against, "lens", "the best reference is the lowest one");
  assert.ok(Math.abs(e.gain - 0.15) < 1e-6, `${e.gain}`);
  assert.ok(e.gain_ci[0] > 0.14 && e.gain_ci[1] < 0.16, JSON.stringify(e.gain_ci));
  assert.equal(e.score.correct, undefined, "no right/wrong count for a mean");
  assert.ok(e.score.ci[0] <= e.score.value && e.score.value <= e.score.ci[1]);
  // the other way: a score worse than its reference has a negative gain and an interval below 0
  const worse = compareMeans({ measure: "KL", direction: "lower", score: { name: "s", values: kl(0.3) }, references: [{ name: "lens", kind: "named", values: kl(0.2) }] });
  assert.ok(worse.gain < 0 && worse.gain_ci[1] < 0, JSON.stringify(worse));
  // higher is better too; a tie names the trivial reference
  const up = compareMeans({ measure: "q", direction: "higher", score: { name: "s", values: kl(0.5) }, references: [{ name: "n", kind: "named", values: kl(0.5) }, { name: "t", kind: "trivial", values: kl(0.5) }] });
  assert.equal(up.against, "t");
  assert.equal(up.gain, 0);
  assert.throws(() => compareMeans({ measure: "m", direction: "lower", score: { name: "s", values: [0.1, Number.NaN] }, references: [{ name: "r", kind: "named", values: [0, 0] }] }), /non-finite value \(NaN\) at item 1/);
  assert.throws(() => compareMeans({ measure: "m", direction: "lower", score: { name: "s", values: [0.1] }, references: [{ name: "r", kind: "named", values: [0, 0] }] }), /r has 2 items, the score has 1/);
});

test("evidence - bootstrapStat: the interval of any statistic of resampled items, seeded", () => {
  const a = Float64Array.from({ length: 50 }, (_, i) => (i % 10) / 10);
  const mean = (idx: Int32Array) => idx.reduce((s, i) => s + a[i]!, 0) / idx.length;
  const ci = bootstrapStat(a.length, mean, { seed: 3 });
  assert.ok(ci[0] < 0.45 && ci[1] > 0.45 && ci[1] - ci[0] < 0.3, JSON.stringify(ci));
  assert.deepEqual(bootstrapStat(a.length, mean, { seed: 3 }), ci, "same seed, same interval");
  // a statistic that never varies has a zero-width interval
  assert.deepEqual(bootstrapStat(10, () => 2), [2, 2]);
  assert.throws(() => bootstrapStat(0, mean), isDataConfigError);
});
