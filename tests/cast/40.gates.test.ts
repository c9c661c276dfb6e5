// The cast's stage gates on real prompt-pack items (pure parts): stage 1 measures the adapter
// against the better of the base and the trivial answer, stage 0 the base against the trivial
// answer on its own domains plus its required checks. guards #14
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Score, exactMatchEvidence, hitsOf, judgeBaseline, splitLayerMap } from "../../actors/cast/mod.js";
import { judgeGate } from "../../actors/director/mod.js";
import { type LaneItem, byteTokenizer, chatTemplate, generatePack } from "../../data/mod.js";

const tpl = chatTemplate({ tokenizer: byteTokenizer() });

function lane(domains: string[], split: "train" | "heldOut", seed = 5): LaneItem[] {
  const pack = generatePack({ seed, domains, difficulties: ["easy"], trainPerCell: 100 });
  return pack[split].map((r, i) => ({ ...tpl.encodeExample(r.prompt, r.response), prompt: r.prompt, response: r.response, domain: r.metadata.domain, difficulty: "easy", line: i + 1, labels: null }));
}

const emGain = { metric: "em_gain", direction: "higher" as const, threshold: 0.1 };
const sum = (h: Uint8Array) => h.reduce((a, b) => a + b, 0);

test("gates - an adapter that always answers \"1\" to counting fails em_gain, though it beats the base by 0.42", () => {
  const held = lane(["counting"], "heldOut");
  const train = lane(["counting"], "train");
  const constantAdapter = Uint8Array.from(held, (it) => (it.response === "1" ? 1 : 0));
  const base = new Uint8Array(held.length);
  assert.equal(sum(constantAdapter) / held.length - sum(base) / held.length, 0.42, "the old gate's em_gain: 0.42 >= 0.1 passed");
  const e = exactMatchEvidence({ measure: "held-out exact match", score: { name: "adapted", hits: constantAdapter }, named: { name: "base", kind: "named", hits: base }, heldOut: held, train });
  assert.equal(e.against, "constant");
  assert.equal(e.gain, 0);
  const v = judgeGate(emGain, e.gain, null, { evidence: e });
  assert.equal(v.passed, false);
  assert.match(v.reason, /em_gain 0 < min 0.1 \(adapted 0.42 vs best reference constant 0.42/);
  // the other way: an adapter that also counts the 2s right passes
  const better = Uint8Array.from(held, (it) => (it.response === "1" || it.response === "2" ? 1 : 0));
  const e2 = exactMatchEvidence({ measure: "held-out exact match", score: { name: "adapted", hits: better }, named: { name: "base", kind: "named", hits: base }, heldOut: held, train });
  assert.equal(judgeGate(emGain, e2.gain, null, { evidence: e2 }).passed, true);
});

function map(agreement: number, bar: number) {
  return splitLayerMap({ arithmetic: { tokens: 100, agree: [Math.round(agreement * 100)] } }, [0], bar);
}

test("gates - stage 0 passes only when the base beats the trivial answer on its own domains and a split layer is found", () => {
  const own = ["arithmetic", "brackets"];
  const evalItems = lane(["arithmetic", "brackets", "counting"], "heldOut");
  const pretrain = lane(own, "train");
  const gate = { metric: "base_em_gain", direction: "higher" as const, threshold: 0.1 };
  const recordChecks = [{ name: "baseline record stored", ok: true }];
  // a base right on every arithmetic item and on brackets where the answer is "no"
  const knows = Uint8Array.from(evalItems, (it) => (it.domain === "arithmetic" || (it.domain === "brackets" && it.response === "no") ? 1 : 0));
  const good = judgeBaseline({ recordChecks, map: map(0.95, 0.9), evalItems, baseHits: knows, ownDomains: own, pretrainItems: pretrain });
  assert.deepEqual(good.measuredOn, { arithmetic: 50, brackets: 50 }, "counting is not the base's domain");
  assert.equal(good.evidence!.against, "majority_by_domain");
  assert.ok(good.metric > 0.3, String(good.metric));
  assert.equal(judgeGate(gate, good.metric, null, good).passed, true);

  // no split layer: the same base fails on the check
  const noSplit = judgeBaseline({ recordChecks, map: map(0.7, 0.9), evalItems, baseHits: knows, ownDomains: own, pretrainItems: pretrain });
  const v = judgeGate(gate, noSplit.metric, null, noSplit);
  assert.equal(v.passed, false);
  assert.match(v.reason, /failed: a split layer found \(agreement with the final layer layer 0 0.70; bar 0.9\)/);

  // a base that only says "no" to brackets is the trivial answer: gain 0
  const trivial = Uint8Array.from(evalItems, (it) => (it.domain === "brackets" && it.response === "no" ? 1 : 0));
  const t = judgeBaseline({ recordChecks, map: map(0.95, 0.9), evalItems, baseHits: trivial, ownDomains: own, pretrainItems: pretrain });
  assert.ok(t.metric <= 0, String(t.metric));
  assert.equal(judgeGate(gate, t.metric, null, t).passed, false);

  // an unpretrained base has no domains: nothing to measure, and the check says why
  const none = judgeBaseline({ recordChecks, map: map(0.95, 0.9), evalItems, baseHits: knows, ownDomains: [] });
  assert.ok(Number.isNaN(none.metric));
  assert.match(judgeGate(gate, none.metric, null, none).reason, /the base was not pretrained on any domain/);
  // an incomplete record fails too
  const lost = judgeBaseline({ recordChecks: [{ name: "baseline record stored", ok: false }], map: map(0.95, 0.9), evalItems, baseHits: knows, ownDomains: own });
  assert.equal(judgeGate(gate, lost.metric, null, lost).passed, false);
});

test("gates - per-item results must cover the lane they are compared on", () => {
  const items = [1, 2, 3];
  const score = (hits?: string): Score => ({ n: 3, exactMatch: 0, loss: 1, byDomain: {}, examples: [], ...(hits !== undefined ? { hits } : {}) });
  assert.deepEqual([...hitsOf(score("101"), items, "x")], [1, 0, 1]);
  assert.throws(() => hitsOf(score(), items, "stage 1 base"), /stage 1 base: the evaluator's score has no per-item results/);
  assert.throws(() => hitsOf(score("10"), items, "x"), /covers 2 items \(n 3\), the lane has 3/);
  assert.throws(() => hitsOf(score("1x1"), items, "x"), /must be "0" or "1", got "x" at item 1/);
});
