// models - stages 2-6 end to end on a small trained model: each stage's training and gate,
// a threshold each gate must fail, a baseline that wins and so fails it, the transfer targets
// (raw-f32 bit-exact, int8 within KL 1e-3 and top-1 99.5 %), routed decoding with fewer layers
// at the same exact match, and stage 6's λ-weighted joint finetune and rollback.
// (The quickstart-size model and the learned codec vs int4: `troupe bench agp`, and the same
// checks under TROUPE_SLOW=1 in 90.agp-slow.test.ts.)
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { K, M, bitwiseEqual } from "../helpers.js";

let model: M.CausalLM;
let data: M.AgpData;
const heads: M.HeadSet = new Map();
const candidates = [1, 2];
let router: M.RouterConfig;

before(async () => {
  const base = await M.pretrainBase({
    domains: ["arithmetic", "sorting", "copying"], steps: 500, batch: 32, lr: 3e-3, warmupSteps: 20, minLr: 3e-4, seed: 1,
    config: { nEmbd: 48, nLayer: 3, nHead: 4, blockSize: 32 }, pack: { trainPerCell: 400, heldOutPerCell: 40, difficulties: ["easy"] },
  });
  model = base.model;
  data = { train: base.data.train, heldOut: base.data.heldOut };
});

test("stage 2 - route and vitality heads: a gate report against entropy-only routing and the majority class", async () => {
  const r = await M.trainRouteVitality({ model, data, candidates, layers: [1, 2], steps: 200, lr: 3e-3, heads, seed: 1 });
  assert.equal(r.tokens, r.labelled.n);
  assert.ok(r.fit.last.route! < r.fit.first.route!, "the route loss fell");
  const g = M.evaluateRouteVitality({ model, data, heads, candidates, trainTokens: r.labelled });
  assert.equal(g.metric, "route_gain");
  assert.ok(Math.abs(g.value - (g.score.value - g.named.value)) < 1e-12);
  assert.ok(g.score.value > g.trivial.value, `the head (${g.score.value}) beats the majority class (${g.trivial.value})`);
  const v = g.details.vitality as { ece: number; dead_auroc: number };
  assert.ok(v.ece >= 0 && v.ece < 0.2 && v.dead_auroc > 0.5, JSON.stringify(v));
  // a threshold it must fail
  const hard = M.evaluateRouteVitality({ model, data, heads, candidates, trainTokens: r.labelled, threshold: g.value + 0.05 });
  assert.equal(hard.passed, false);
  assert.equal(hard.meetsThreshold, false);
  // untrained heads: entropy-only routing wins, the stage does not pass
  const fresh: M.HeadSet = new Map();
  for (const h of M.headsOf(heads, "route")) M.addHead(fresh, M.createHead(h.spec, 99));
  const lost = M.evaluateRouteVitality({ model, data, heads: fresh, candidates, trainTokens: r.labelled, threshold: -1 });
  assert.equal(lost.passed, false);
  assert.equal(lost.beatsNamed, false, lost.reason);
});

test("stage 3 - on the router's path the depth residual beats logit-lens exit and the constant answer; untrained it only ties the lens", async () => {
  await M.trainDepthResiduals({ model, data, layers: [1, 2], steps: 150, lr: 3e-3, heads, seed: 2 });
  const path = M.calibrateRouter(model, heads, data.train, { maxError: 0.05 }).router;
  const g = M.evaluateDepthResiduals({ model, data, heads, router: path });
  assert.equal(g.passed, true, g.reason);
  assert.ok(g.value < g.named.value && g.value < g.trivial.value);
  const d = g.details as { exits: Record<string, number>; tokens: number; forced_exits: Record<string, { residual_kl: number; lens_kl: number }> };
  assert.ok(d.exits.full < d.tokens, "some tokens leave early");
  assert.ok(d.forced_exits["1"]!.residual_kl < d.forced_exits["1"]!.lens_kl, "forced exits are reported beside the path");
  // the metric is the mean over every held-out token of the routed KL: 0 where the router ran the full depth
  const items = g.items!;
  assert.equal(items.score.values.length, d.tokens);
  assert.ok(Math.abs(items.score.values.reduce((a, b) => a + b, 0) / d.tokens - g.value) < 1e-6);
  const strict = M.evaluateDepthResiduals({ model, data, heads, router: path, threshold: 1e-6 });
  assert.equal(strict.passed, false);
  assert.match(strict.reason, /depth_kl .* > max 0\.000001/);
  // untrained residuals decode exactly as the lens: a tie, so the baseline is not beaten
  const fresh: M.HeadSet = new Map();
  for (const h of M.headsOf(heads, "route")) M.addHead(fresh, h);
  for (const h of M.headsOf(heads, "depth")) M.addHead(fresh, M.createHead(h.spec, 5));
  const tie = M.evaluateDepthResiduals({ model, data, heads: fresh, router: path, threshold: 10 });
  assert.equal(tie.passed, false);
  assert.equal(tie.score.value, tie.named.value, "an untrained residual is the logit lens exactly");
  // a router that lets nothing go measures KL 0 and still does not pass
  const never = M.evaluateDepthResiduals({ model, data, heads, router: { thresholds: {} }, threshold: 10 });
  assert.equal(never.value, 0);
  assert.equal(never.passed, false);
  assert.match(never.reason, /lets none of the/);
});

test("stage 4 - the semantic projection: stable on neighbouring prompts; collapsed it is unstable and gains 0", async () => {
  const r = await M.trainSemantic({ model, data, layer: 1, steps: 150, lr: 3e-3, heads, seed: 3 });
  assert.ok(r.fit.last.bce! < r.fit.first.bce!, "BCE fell");
  const g = await M.evaluateSemantic({ model, data, heads, steps: 100, lr: 3e-3 });
  const s = g.details.stability as M.Stability;
  assert.ok(s.pairs > 50 && s.neighbour > s.crossDomain, JSON.stringify(s));
  assert.ok((g.details.micro_f1 as number) > (g.details.prior_micro_f1 as number), "beats the per-label prior");
  const hard = await M.evaluateSemantic({ model, data, heads, steps: 50, lr: 3e-3, threshold: 1 });
  assert.equal(hard.passed, false);
  // a collapsed projection: the same activations for every token
  const collapsed = M.createHead(M.headsOf(heads, "semantic")[0]!.spec, 4);
  for (const [n, t] of collapsed.namedParameters()) if (n.startsWith("out.")) t.f32().fill(0);
  const c = await M.evaluateSemantic({ model, data, heads: M.addHead(new Map(), collapsed), steps: 50, lr: 3e-3, threshold: -1 });
  assert.equal(c.passed, false);
  assert.equal(c.value, 0);
  assert.match(c.reason, /unstable/);
});

test("stage 5 - transfer: raw-f32 bit-exact, int8 within KL 1e-3 and top-1 99.5 %; an untrained adapter loses to int4", async () => {
  const r = await M.trainTransfer({ model, data, layers: [1], steps: 120, lr: 3e-3, heads, seed: 4 });
  assert.ok(r.bytesPerToken <= (4 * 48) / 8, "the default latent keeps a token within 1/8 of raw f32");
  assert.equal(M.headAt<M.TransferAdapter>(heads, "transfer", 1)!.spec.context, 8, "the route/vitality probabilities are its context");
  const g = M.evaluateTransfer({ model, data, heads });
  const rows = g.details.fidelity as M.FidelityRow[];
  const at = (c: string) => rows.find((x) => x.codec === c && x.layer === 1)!;
  assert.equal(at("raw-f32").kl_mean, 0);
  assert.equal(at("raw-f32").top1, 1);
  assert.ok(at("int8").kl_mean <= 1e-3 && at("int8").top1 >= 0.995, JSON.stringify(at("int8")));
  assert.ok(at("learned").payload_bytes_per_token <= at("raw-f32").payload_bytes_per_token / 8);
  const strict = M.evaluateTransfer({ model, data, heads, codecs: ["int4", "learned"], threshold: 0 });
  assert.equal(strict.passed, false);
  const fresh: M.HeadSet = new Map();
  for (const h of [...heads.values()]) M.addHead(fresh, h.spec.kind === "transfer" ? M.createHead(h.spec, 8) : h);
  const lost = M.evaluateTransfer({ model, data, heads: fresh, codecs: ["int4", "learned"], threshold: 100 });
  assert.equal(lost.passed, false);
  assert.equal(lost.beatsNamed, false, lost.reason);
});

test("routed decoding - the calibrated router runs fewer layers per token at the same exact match", () => {
  const cal = M.calibrateRouter(model, heads, data.train, { maxError: 0.005 });
  router = cal.router;
  const r = M.measureRouted(model, heads, data.heldOut, { router, rounds: 1 });
  assert.equal(r.full_layers, 3);
  assert.ok(r.mean_layers_per_token < 3, JSON.stringify(r));
  assert.ok(Math.abs(r.em_routed - r.em_full) <= 0.02, `routed ${r.em_routed} vs full ${r.em_full}`);
  assert.equal(Object.values(r.exits).reduce((a, b) => a + b, 0), r.tokens_routed);
  // no thresholds: the routed path is the full-depth path, token for token
  const none = M.decode(model, data.heldOut.slice(0, 20).map((it) => it.ids.subarray(0, it.promptLen)), { maxTokens: 8, heads, router: { thresholds: {} } });
  const full = M.decode(model, data.heldOut.slice(0, 20).map((it) => it.ids.subarray(0, it.promptLen)), { maxTokens: 8 });
  assert.deepEqual(none.outputs.map((o) => [...o]), full.outputs.map((o) => [...o]));
  assert.equal(none.layers, 3 * none.tokens);
  // threshold 0 at index 1: every token leaves there, one block each
  const all = M.decode(model, data.heldOut.slice(0, 20).map((it) => it.ids.subarray(0, it.promptLen)), { maxTokens: 8, heads, router: { thresholds: { "1": 0 } } });
  assert.equal(all.layers, all.tokens);
  assert.equal(all.exits["1"], all.tokens);
  // a looser error budget never calibrates a higher threshold or fewer exits
  const loose = M.calibrateRouter(model, heads, data.train, { maxError: 0.2 });
  for (const p of cal.points) {
    const q = loose.points.find((x) => x.layer === p.layer)!;
    assert.ok(q.exitRate >= p.exitRate && (p.threshold === null || (q.threshold !== null && q.threshold <= p.threshold)), JSON.stringify({ strict: p, loose: q }));
    assert.ok(p.threshold === null || p.errorRate <= 0.005);
  }
});

test("routed decoding - the exact-match calibration: the best quality per compute within the budget, simulated as decoding gives it", () => {
  const train = data.train.slice(0, 80);
  const tokens = M.calibrateRouter(model, heads, train, { maxError: 0.2 });
  const strict = M.routerForExactMatch(model, heads, train, { budget: 0, prompts: 80, compare: tokens.router });
  // the simulation is what decoding gives (a prompt either way at most: exits near a threshold)
  assert.ok(Math.abs(strict.em.em_routed_simulated - strict.em.em_routed) <= 1 / 80 + 1e-9, JSON.stringify(strict.em));
  assert.ok(strict.em.em_full - strict.em.em_routed_simulated <= 0, JSON.stringify(strict.em));
  const check = M.measureRouted(model, heads, train, { router: strict.router, rounds: 1 });
  assert.equal(check.em_routed, strict.em.em_routed);
  // the other way: a loose budget buys compute with answers, never fewer exits, never a lower score
  const loose = M.routerForExactMatch(model, heads, train, { budget: 0.5, prompts: 80 });
  assert.ok(loose.em.qpc_simulated >= strict.em.qpc_simulated, JSON.stringify([loose.em, strict.em]));
  assert.ok(loose.em.em_full - loose.em.em_routed_simulated <= 0.5);
  const looseRun = M.measureRouted(model, heads, train, { router: loose.router, rounds: 1 });
  assert.ok(looseRun.mean_layers_per_token <= check.mean_layers_per_token, `${looseRun.mean_layers_per_token} vs ${check.mean_layers_per_token}`);
  // every token leaving at the first head layer is over a zero budget: never chosen then
  const first = M.headsOf(heads, "route").map((h) => h.spec.layer).sort((a, b) => a - b)[0]!;
  const all = M.measureRouted(model, heads, train, { router: { thresholds: { [String(first)]: 0 } }, rounds: 1 });
  assert.ok(all.em_routed < all.em_full, "the trivial router loses answers");
  assert.notDeepEqual(strict.router.thresholds, { [String(first)]: 0.5 });
  assert.throws(() => M.routerForExactMatch(model, heads, train, { budget: -0.1 }), /budget/);
  // through calibrateRouter
  const via = M.calibrateRouter(model, heads, train, { maxError: 0.2, emBudget: 0, emPrompts: 80 });
  assert.deepEqual(via.router, strict.router);
});

test("stage 6 - the joint finetune trains what its λ switch on, and a failed gate rolls everything back", async () => {
  M.applyLora(model, { rank: 4, alpha: 8, targets: ["qkv", "fc"] }, { seed: 1 });
  const params = M.jointParameters(model, heads);
  assert.ok(params.some(([n]) => n.includes("lora_")) && !params.some(([n]) => n === "model.wte.weight"), "adapters and heads, never the base");
  const snap = M.snapshotParams(params);
  // only λ_sft on: the adapters move, the heads do not
  await M.trainJoint({ model, data, heads, candidates, steps: 4, lr: 1e-3, lambdas: () => ({ sft: 1 }) });
  const changed = (n: string) => !bitwiseEqual(params.find(([m]) => m === n)![1].f32(), snap.get(n)!);
  assert.ok(params.filter(([n]) => n.includes("lora_B")).some(([n]) => changed(n)), "an adapter moved");
  assert.ok(params.filter(([n]) => !n.startsWith("model.")).every(([n]) => !changed(n)), "no head moved with its λ at 0");
  M.restoreParams(params, snap);
  // every term on, an impossible threshold: trained, judged, rolled back bit for bit
  const r = await M.runJointStage({ model, data, heads, candidates, steps: 6, lr: 1e-3, router, threshold: 10 });
  assert.ok(["sft", "route", "vit", "depth", "sem", "transfer"].every((t) => Number.isFinite(r.fit.last[t])), JSON.stringify(r.fit.last));
  assert.equal(r.report.passed, false);
  assert.equal(r.rolledBack, true);
  for (const [n, t] of params) assert.ok(bitwiseEqual(t.f32(), snap.get(n)!), `${n} restored`);
  // a 'before' that was better: the named baseline wins
  const better = { ...r.before, em_routed: 1, mean_layers_per_token: 1 };
  const lost = M.evaluateJoint({ model, data, heads, before: better, router, threshold: -1 });
  assert.equal(lost.passed, false);
  assert.equal(lost.beatsNamed, false, lost.reason);
});
