// The router's thresholds, calibrated on training prompts (never the held-out ones): at each
// head layer, the smallest P(accept_local) threshold at which the tokens it would let go are
// decoded wrongly (exit top-1 ≠ full-depth top-1, with the decoder routed inference uses
// there: the depth residual if trained, else the logit lens) at most `maxError` of the time.
// A layer where no threshold gets there never exits.
// With `emBudget`, the thresholds are instead chosen on whole answers: those that give the
// highest quality per compute (exact match / blocks per token, per prompt) on training prompts
// while routed exact match stays within the budget of full depth's. A per-token error rate says
// little about answers (at 1 % wrong exits per token a four-token answer is lost ~4 % of the
// time), and answers are what stage 6 is judged on.
import { StageDataError } from "../../errors.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import { type HeadSet, headAt, headsOf } from "../../heads/registry.js";
import { type LayeredModel, dimsOf } from "../../layered.js";
import { Route } from "../../oracle/labels.js";
import { type AgpItem, withFrozenSync } from "./common.js";
import { depthDecoder } from "./depth.js";
import { labelItems } from "./labelled.js";
import { classProbs } from "./route.js";
import { type RouterConfig, decode, decodeSetup, exactHits } from "./routed.js";

export interface CalibrationPoint {
  readonly layer: number;
  readonly threshold: number | null;
  /** fraction of the calibration tokens that would exit here, and their error rate */
  readonly exitRate: number;
  readonly errorRate: number;
  readonly tokens: number;
}

export const THRESHOLD_GRID = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999];

/** How the exact-match calibration went, on which training prompts. */
export interface ExactMatchCalibration {
  readonly budget: number;
  readonly prompts: number;
  readonly em_full: number;
  /** simulated routed exact match of the token-level thresholds (for comparison) */
  readonly em_routed_token_level: number;
  /** the chosen thresholds: simulated routed exact match and quality per compute, then as decoded */
  readonly em_routed_simulated: number;
  readonly qpc_simulated: number;
  readonly em_routed: number;
  /** threshold combinations compared */
  readonly candidates: number;
}

export interface CalibrateOptions {
  readonly maxError?: number;
  readonly residual?: boolean;
  readonly limit?: number;
  /** max exact-match drop of routed vs full-depth greedy decoding on training prompts (default: none, token level only) */
  readonly emBudget?: number;
  /** training prompts decoded for emBudget, spread over the items (default 256) */
  readonly emPrompts?: number;
}

export function calibrateRouter(model: LayeredModel, heads: HeadSet, items: readonly AgpItem[], o: CalibrateOptions = {}): { router: RouterConfig; points: CalibrationPoint[]; em?: ExactMatchCalibration } {
  const tokenLevel = calibrateTokens(model, heads, items, o);
  if (o.emBudget === undefined) return tokenLevel;
  const { router, em } = routerForExactMatch(model, heads, items, { budget: o.emBudget, prompts: o.emPrompts ?? 256, residual: o.residual ?? true, compare: tokenLevel.router });
  return { router, points: tokenLevel.points, em };
}

/** Every k-th item, so a sample covers the lane's domains however the lane is ordered. */
function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

const MAX_COMBINATIONS = 50_000;

/**
 * The router with the highest quality per compute on training prompts whose routed exact match
 * is within `budget` of full depth's, over THRESHOLD_GRID (and "never exits") at every head layer.
 * Found without decoding each candidate: routed decoding re-runs the whole context at every step
 * (no KV cache), so a row's states up to its exit are those of full-depth decoding of the same
 * prefix, and its output is full depth's exactly as long as every token's exit decodes full
 * depth's token. So the sample is decoded once at full depth, teacher-forced along that output
 * to read each token's P(accept_local) and exit token at every head layer, and each candidate is
 * scored from those: a prompt counts when full depth answers it and no token of it leaves where
 * it would decode another token (a diverged answer counts as wrong: conservative). The chosen
 * router is then decoded for real, and both figures are reported.
 */
export function routerForExactMatch(model: LayeredModel, heads: HeadSet, items: readonly AgpItem[], o: { budget: number; prompts?: number; residual?: boolean; compare?: RouterConfig }): { router: RouterConfig; em: ExactMatchCalibration } {
  if (!(o.budget >= 0)) throw new StageDataError(`the exact-match budget must be >= 0, got ${o.budget}`);
  const residual = o.residual ?? true;
  const routes = headsOf<ClassifierHead>(heads, "route").sort((a, b) => a.spec.layer - b.spec.layer);
  if (routes.length === 0) throw new StageDataError("no route heads to calibrate");
  const layers = routes.map((h) => h.spec.layer);
  const sample = spread(items, o.prompts ?? 256);
  const { prompts, opts } = decodeSetup(model, sample);
  const rate = (hits: readonly number[]) => hits.reduce((a, b) => a + b, 0) / Math.max(1, hits.length);
  const full = decode(model, prompts, opts);
  const hits = exactHits(full, sample);
  const emFull = rate(hits);
  // the full-depth answers as items: teacher forcing along them reads each token's exit
  const along: AgpItem[] = sample.map((it, i) => {
    const ids = new Int32Array(it.promptLen + full.outputs[i]!.length);
    ids.set(prompts[i]!);
    ids.set(full.outputs[i]!, it.promptLen);
    return { ...it, ids };
  });
  const P = layers.length;
  const L = dimsOf(model).layers;
  const { n, item, accept, agree } = withFrozenSync(model, () => {
    const normRef = new Map(routes.map((h) => [h.spec.layer, h.spec.normRef]));
    const lens = labelItems(model, along, { candidates: layers, layers, normRef });
    const exitDecode = residual && layers.some((l) => headAt(heads, "depth", l))
      ? labelItems(model, along, { candidates: layers, layers, normRef, decode: depthDecoder(model, heads) })
      : lens;
    const accept = routes.map((h) => {
      const p = classProbs(h, lens);
      return Float32Array.from({ length: lens.n }, (_, r) => p[r * 4 + Route.accept]!);
    });
    const fin = exitDecode.observation.finalTop1;
    const agree = layers.map((l) => {
      const top = exitDecode.observation.stats.get(l)!.top1;
      return Uint8Array.from({ length: lens.n }, (_, r) => (top[r] === fin[r] ? 1 : 0));
    });
    return { n: lens.n, item: lens.item, accept, agree };
  });
  const N = sample.length;
  const score = (tau: readonly number[]) => {
    const blocks = new Float64Array(N);
    const tokens = new Int32Array(N);
    const diverged = new Uint8Array(N);
    for (let r = 0; r < n; r++) {
      const i = item[r]!;
      let depth = L;
      for (let j = 0; j < P; j++) {
        if (accept[j]![r]! >= tau[j]!) {
          depth = layers[j]!;
          if (!agree[j]![r]) diverged[i] = 1;
          break;
        }
      }
      blocks[i] += depth;
      tokens[i]!++;
    }
    let em = 0;
    let qpc = 0;
    for (let i = 0; i < N; i++) {
      if (!hits[i] || diverged[i]) continue;
      em++;
      qpc += tokens[i]! / Math.max(1, blocks[i]!);
    }
    return { em: em / Math.max(1, N), qpc: qpc / Math.max(1, N) };
  };
  const toTau = (r: RouterConfig) => layers.map((l) => r.thresholds[String(l)] ?? Infinity);
  // every combination of grid values (Infinity: the layer never exits), in mixed radix
  const values = [...THRESHOLD_GRID, Infinity];
  const combos = values.length ** P;
  if (combos > MAX_COMBINATIONS) throw new StageDataError(`${P} route heads make ${combos} threshold combinations, more than the ${MAX_COMBINATIONS} compared`);
  let best: { tau: number[]; em: number; qpc: number } | null = null;
  for (let c = 0; c < combos; c++) {
    const tau: number[] = [];
    for (let j = 0, k = c; j < P; j++, k = Math.floor(k / values.length)) tau.push(values[k % values.length]!);
    const s = score(tau);
    if (emFull - s.em > o.budget + 1e-12) continue;
    if (!best || s.qpc > best.qpc || (s.qpc === best.qpc && s.em > best.em)) best = { tau, ...s };
  }
  // full depth everywhere is always within the budget, so best exists
  const thresholds: Record<string, number> = {};
  best!.tau.forEach((t, j) => {
    if (Number.isFinite(t)) thresholds[String(layers[j])] = t;
  });
  const router: RouterConfig = { thresholds, residual };
  const routed = decode(model, prompts, { ...opts, heads, router });
  return {
    router,
    em: {
      budget: o.budget,
      prompts: N,
      em_full: emFull,
      em_routed_token_level: o.compare ? score(toTau(o.compare)).em : Number.NaN,
      em_routed_simulated: best!.em,
      qpc_simulated: best!.qpc,
      em_routed: rate(exactHits(routed, sample)),
      candidates: combos,
    },
  };
}

function calibrateTokens(model: LayeredModel, heads: HeadSet, items: readonly AgpItem[], o: CalibrateOptions): { router: RouterConfig; points: CalibrationPoint[] } {
  const maxError = o.maxError ?? 0.01;
  const residual = o.residual ?? true;
  const routes = headsOf<ClassifierHead>(heads, "route");
  if (routes.length === 0) throw new StageDataError("no route heads to calibrate");
  const layers = routes.map((h) => h.spec.layer);
  const use = items.slice(0, o.limit ?? 1500);
  return withFrozenSync(model, () => {
    const normRef = new Map(routes.map((h) => [h.spec.layer, h.spec.normRef]));
    const lens = labelItems(model, use, { candidates: layers, layers, normRef });
    const exitDecode = residual && layers.some((l) => headAt(heads, "depth", l))
      ? labelItems(model, use, { candidates: layers, layers, normRef, decode: depthDecoder(model, heads) })
      : lens;
    const thresholds: Record<string, number> = {};
    const points: CalibrationPoint[] = [];
    for (const head of routes) {
      const l = head.spec.layer;
      const p = classProbs(head, lens);
      const top = exitDecode.observation.stats.get(l)!.top1;
      const fin = exitDecode.observation.finalTop1;
      let chosen: CalibrationPoint = { layer: l, threshold: null, exitRate: 0, errorRate: 0, tokens: lens.n };
      for (const tau of THRESHOLD_GRID) {
        let go = 0;
        let wrong = 0;
        for (let r = 0; r < lens.n; r++) {
          if (p[r * 4 + Route.accept]! < tau) continue;
          go++;
          if (top[r] !== fin[r]) wrong++;
        }
        if (go > 0 && wrong / go <= maxError) {
          chosen = { layer: l, threshold: tau, exitRate: go / lens.n, errorRate: wrong / go, tokens: lens.n };
          break;
        }
      }
      if (chosen.threshold !== null) thresholds[String(l)] = chosen.threshold;
      points.push(chosen);
    }
    return { router: { thresholds, residual }, points };
  });
}
