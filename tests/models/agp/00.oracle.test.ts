// models - the oracle's labels as pure functions: agreement, the earliest acceptable layer under
// both rules ("agrees from this layer on" vs "first layer that agrees"), route classes,
// vitality regimes and confidences, on hand-made distributions whose answers are known.
import { test } from "node:test";
import assert from "node:assert/strict";
import { M } from "../helpers.js";

const V = 4;
/** logits that put probability p on token `top` and spread the rest evenly */
function peaked(top: number, p: number): number[] {
  const rest = (1 - p) / (V - 1);
  return Array.from({ length: V }, (_, v) => Math.log(v === top ? p : rest));
}
const rows = (...r: number[][]) => Float32Array.from(r.flat());

test("oracle - lensStats: KL 0 against itself, entropy of a uniform row is ln V, pFinal and margin", () => {
  const final = rows(peaked(2, 0.9), peaked(0, 0.7));
  const s = M.lensStats(final, final, 2, V);
  assert.deepEqual([...s.top1], [2, 0]);
  assert.ok(s.kl[0]! < 1e-6 && s.kl[1]! < 1e-6);
  const uniform = rows([0, 0, 0, 0], [0, 0, 0, 0]);
  const u = M.lensStats(uniform, final, 2, V);
  assert.ok(Math.abs(u.entropy[0]! - Math.log(4)) < 1e-6);
  assert.ok(Math.abs(u.pFinal[0]! - 0.25) < 1e-6 && u.margin[0]! < 1e-6);
  const d = M.decodedStats(final, 2, V);
  assert.ok(Math.abs(d.pTop1[0]! - 0.9) < 1e-5 && Math.abs(d.margin[0]! - (0.9 - 0.1 / 3)) < 1e-5);
});

// one position, four candidate layers: agrees at 1, disagrees at 2, agrees at 3 and 4 (residual
// indices), the final top-1 being token 1
function flipFlop(): { views: M.CandidateView[]; finalTop: Int32Array } {
  const final = rows(peaked(1, 0.95));
  const at = (top: number, p: number) => M.lensStats(rows(peaked(top, p)), final, 1, V);
  const norm = Float32Array.of(10);
  return {
    views: [
      { layer: 1, stats: at(1, 0.95), norm },
      { layer: 2, stats: at(3, 0.9), norm },
      { layer: 3, stats: at(1, 0.93), norm },
      { layer: 4, stats: at(1, 0.95), norm },
    ],
    finalTop: Int32Array.of(1),
  };
}

test("oracle - 'stable' picks the layer from which every later candidate agrees; 'first' the first agreeing one", () => {
  const { views, finalTop } = flipFlop();
  const stable = M.labelTokens(views, finalTop, V, [1, 2, 3], M.resolveOracleConfig({ rule: "stable" }));
  const first = M.labelTokens(views, finalTop, V, [1, 2, 3], M.resolveOracleConfig({ rule: "first" }));
  assert.deepEqual(stable.agree.map((a) => a[0]), [1, 0, 1, 1]);
  assert.equal(stable.earliestLayer[0], 3, "agrees from index 3 on");
  assert.equal(first.earliestLayer[0], 1, "first agrees at index 1");
  // route classes at each head layer
  const cls = (l: M.TokenLabels, h: number) => M.ROUTE_CLASSES[l.heads.find((x) => x.layer === h)!.route[0]!];
  assert.equal(cls(stable, 1), "revive_local", "agreed at 1 but lost at 2: revive, it comes back locally at 3");
  assert.equal(cls(stable, 2), "revive_local");
  assert.equal(cls(stable, 3), "accept_local");
  assert.equal(cls(first, 1), "accept_local", "under 'first' the token exits at 1 ...");
  assert.equal(cls(first, 2), "accept_local", "... and would be accepted at 2, whose own prediction (token 3) is wrong");
  // vitality: alive where it agrees, revive where an earlier layer agreed
  const vit = (l: M.TokenLabels, h: number) => M.VITALITY_CLASSES[l.heads.find((x) => x.layer === h)!.vitality[0]!];
  assert.equal(vit(stable, 1), "alive");
  assert.equal(vit(stable, 2), "revive");
  assert.equal(vit(stable, 3), "alive");
});

test("oracle - escalate when no candidate agrees to the end, continue when a later one does", () => {
  const final = rows(peaked(1, 0.95), peaked(1, 0.95));
  const norm = Float32Array.of(10, 10);
  const views = [
    { layer: 1, stats: M.lensStats(rows(peaked(0, 0.8), peaked(0, 0.8)), final, 2, V), norm },
    { layer: 2, stats: M.lensStats(rows(peaked(0, 0.8), peaked(1, 0.95)), final, 2, V), norm },
  ];
  const l = M.labelTokens(views, Int32Array.of(1, 1), V, [1], M.resolveOracleConfig({}));
  assert.deepEqual([...l.earliestLayer], [-1, 2]);
  assert.deepEqual([...l.heads[0]!.route].map((c) => M.ROUTE_CLASSES[c]), ["escalate", "continue_local"]);
});

test("oracle - KL above the bound is not agreement even with the same top-1; top1: false drops the top-1 test", () => {
  const final = rows(peaked(1, 0.99));
  const loose = M.lensStats(rows(peaked(1, 0.4)), final, 1, V);
  const wrongTop = M.lensStats(rows(peaked(2, 0.3)), rows(peaked(1, 0.26)), 1, V);
  assert.equal(M.agreement(loose, Int32Array.of(1), M.resolveOracleConfig({ klMax: 0.1 })).agree[0], 0, `KL ${loose.kl[0]} > 0.1`);
  assert.equal(M.agreement(loose, Int32Array.of(1), M.resolveOracleConfig({ klMax: 10 })).agree[0], 1);
  assert.equal(M.agreement(wrongTop, Int32Array.of(1), M.resolveOracleConfig({ klMax: 1 })).agree[0], 0);
  assert.equal(M.agreement(wrongTop, Int32Array.of(1), M.resolveOracleConfig({ klMax: 1, top1: false })).agree[0], 1);
});

test("oracle - vitality: weak when the answer is present, dead when absent, diffuse or collapsed", () => {
  const final = rows(peaked(1, 0.95), peaked(1, 0.95), peaked(1, 0.95), peaked(1, 0.95));
  const layer = rows(
    peaked(0, 0.6), // final token at 0.4/3 ≈ 0.13 ≥ weakP 0.1: weak
    peaked(0, 0.97), // final token at 0.01: dead (absent)
    [0, 0, 0, 0.01], // near uniform: dead (diffuse)
    peaked(0, 0.6), // weak by the distribution, but its norm collapsed: dead
  );
  const stats = M.lensStats(layer, final, 4, V);
  const views = [{ layer: 1, stats, norm: Float32Array.of(10, 10, 10, 0.5), normRef: 10 }];
  const l = M.labelTokens(views, Int32Array.of(1, 1, 1, 1), V, [1], M.resolveOracleConfig({ weakKl: 0.01 }));
  assert.deepEqual([...l.heads[0]!.vitality].map((v) => M.VITALITY_CLASSES[v]), ["weak", "dead", "dead", "dead"]);
  for (const c of [...l.heads[0]!.vitalityConfidence, ...l.heads[0]!.routeConfidence]) assert.ok(c >= 0.5 && c <= 1, `confidence ${c} in [0.5, 1]`);
});

test("oracle - confidence grows with the distance from the KL bound", () => {
  const final = rows(peaked(1, 0.95), peaked(1, 0.95));
  const near = M.lensStats(rows(peaked(1, 0.95), peaked(1, 0.6)), final, 2, V);
  const a = M.agreement(near, Int32Array.of(1, 1), M.resolveOracleConfig({ klMax: 0.5 }));
  assert.equal(a.agree[0], 1);
  assert.ok(a.confidence[0]! > a.confidence[1]!, `identical rows (${a.confidence[0]}) are surer than a row near the bound (${a.confidence[1]})`);
});

test("oracle - bad configs and layers are typed errors naming the key", () => {
  assert.throws(() => M.resolveOracleConfig({ rule: "last" as never }), (e) => M.isModelConfigError(e) && e.key === "oracle.rule");
  assert.throws(() => M.resolveOracleConfig({ klMax: -1 }), (e) => M.isModelConfigError(e) && e.key === "oracle.klMax");
  assert.throws(() => M.resolveOracleConfig({ weakP: 1.5 }), (e) => M.isModelConfigError(e) && e.key === "oracle.weakP");
  const { views, finalTop } = flipFlop();
  assert.throws(() => M.labelTokens(views, finalTop, V, [5], M.resolveOracleConfig({})), (e) => M.isModelConfigError(e) && /not a candidate/.test(e.message));
  assert.throws(() => M.labelTokens([views[1]!, views[0]!], finalTop, V, [1], M.resolveOracleConfig({})), (e) => M.isModelConfigError(e) && /ascend/.test(e.message));
});
