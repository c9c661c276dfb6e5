// models - labelled tokens line up with the examples: every counted position is a response
// step of its item (the last one predicts the end marker), weak labels land on their steps,
// and observations of several batches equal one observation of all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, M, tinyGpt } from "../helpers.js";
import * as D from "../../../data/mod.js";

const template = D.chatTemplate({ tokenizer: D.byteTokenizer() });
function item(prompt: string, response: string, domain = "copying"): M.AgpItem {
  const ex = template.encodeExample(prompt, response);
  return { ids: ex.ids, promptLen: ex.promptLen, prompt, response, domain, difficulty: "easy" };
}

test("labelled - positions map to (item, response step); weak labels put 'return' on the end marker's step", () => {
  const model = tinyGpt(1, { vocabSize: 256, blockSize: 32, nLayer: 3 });
  const items = [item("copy ab", "ab"), item("copy xyz", "xyz"), item("reverse pq", "qp", "reversal")];
  const t = M.labelItems(model, items, { candidates: [1, 2], layers: [1], forwardBatch: 2 });
  assert.equal(t.n, 3 + 4 + 3, "response tokens + end marker of each item");
  assert.deepEqual([...t.item], [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
  assert.deepEqual([...t.stepOf], [0, 1, 2, 0, 1, 2, 3, 0, 1, 2]);
  const y = M.weakLabels(t, items, M.ruleLabeler());
  const P = M.STEP_VOCABULARY.length;
  const ret = M.STEP_VOCABULARY.indexOf("return");
  for (let r = 0; r < t.n; r++) {
    const last = t.stepOf[r] === items[t.item[r]!]!.response.length;
    assert.equal(y[r * P + ret], last ? 1 : 0, `position ${r}`);
  }
  assert.equal(t.features.get(1)!.length, t.n * (model.config.nEmbd + M.STATS));
});

test("labelled - observing in batches of 1 or of 3 gives the same statistics and labels", () => {
  const model = tinyGpt(2, { vocabSize: 256, blockSize: 32, nLayer: 3 });
  const items = [item("copy ab", "ab"), item("copy xyz", "xyz"), item("copy k", "k")];
  const a = M.labelItems(model, items, { candidates: [1, 2], layers: [2], forwardBatch: 1 });
  const b = M.labelItems(model, items, { candidates: [1, 2], layers: [2], forwardBatch: 3 });
  assert.deepEqual([...a.labels.heads[0]!.route], [...b.labels.heads[0]!.route]);
  assert.deepEqual([...a.observation.finalTop1], [...b.observation.finalTop1]);
  const ka = a.observation.stats.get(1)!.kl;
  const kb = b.observation.stats.get(1)!.kl;
  assert.ok(ka.every((v, i) => Math.abs(v - kb[i]!) < 1e-4));
});

test("labelled - a trained translator plugs in as the oracle's decoder (tuned lens)", () => {
  const model = tinyGpt(3, { vocabSize: 256, blockSize: 32, nLayer: 3 });
  const items = [item("copy ab", "ab")];
  const heads = M.addHead(new Map(), M.createHead({ kind: "depth", layer: 1, channels: model.config.nEmbd, rank: 2 }, 1));
  for (const [n, t] of heads.get("depth.1")!.namedParameters()) if (n.startsWith("up")) t.f32().fill(0.05);
  const lens = M.labelItems(model, items, { candidates: [1], layers: [1] });
  const tuned = M.labelItems(model, items, { candidates: [1], layers: [1], decode: M.depthDecoder(model, heads) });
  assert.notDeepEqual([...lens.observation.stats.get(1)!.kl], [...tuned.observation.stats.get(1)!.kl]);
  assert.throws(() => M.labelItems(model, [], { candidates: [1], layers: [1] }), (e) => M.isStageDataError(e));
  assert.throws(() => M.labelItems(model, items, { candidates: [3], layers: [3] }), (e) => M.isModelConfigError(e) && /outside 0\.\.2/.test(e.message));
  void K;
});
