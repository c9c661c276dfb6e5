// Stage 3, the depth-routing residual. Training: at each exit index h a DepthResidual mixes
// the earlier states of the frozen model into the state the exit decodes, trained by
// λ_depth · KL(full-depth teacher ‖ lens(z)) (+ the optional hidden similarity to h_L) on the
// response tokens of the training prompts. Evaluation on held-out prompts, on the path the
// router chooses (the stage-2 route heads with thresholds calibrated on training prompts):
// every held-out response token leaves at the first head layer whose P(accept_local) clears
// its threshold, or runs the full depth. depth_kl = the mean over all those tokens of
// KL(full ‖ routed logits) — 0 where a token ran the full depth — with the exits decoded by the
// residual, against the same exits decoded by the plain logit lens (the named baseline) and by
// the constant answer, the training set's mean full-depth distribution (the trivial one). A
// router that lets no token go ties both and does not pass. Forced exits (every token at each
// residual layer) are reported beside it.
// Legend: n positions, C channels, V vocab.
import { type Tensor, add, fromArray, klDivergence, noGrad, scale } from "../../../kernels/mod.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import { ModelConfigError } from "../../errors.js";
import { DepthResidual, depthLoss } from "../../heads/depth.js";
import { type HeadSet, addHead, createHead, headAt, headsOf } from "../../heads/registry.js";
import { type LayeredModel, checkIndices, dimsOf } from "../../layered.js";
import type { AgpData, AgpRunOptions, GateReport } from "./common.js";
import { gateReport, withFrozen } from "./common.js";
import { type FitResult, fit } from "./fit.js";
import { type LabelledTokens, labelItems } from "./labelled.js";
import { classProbs } from "./route.js";
import type { RouterConfig } from "./routed.js";
import { Route } from "../../oracle/labels.js";

/** Decodes index `layer` with its residual when there is one, else the logit lens: a tuned lens for the oracle. */
export function depthDecoder(model: LayeredModel, heads: HeadSet): (layer: number, hidden: readonly (Tensor | undefined)[]) => Tensor {
  return (layer, hidden) => {
    const r = headAt<DepthResidual>(heads, "depth", layer);
    if (!r) return model.logitLens(hidden[layer]!);
    return model.logitLens(r.forward(hidden.slice(0, layer + 1) as Tensor[]));
  };
}

function rowsOf(data: Float32Array, width: number, rows: ArrayLike<number>): Tensor {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
  return fromArray(out, [rows.length, width]);
}

function observeForTraining(model: LayeredModel, items: AgpData["train"], layers: readonly number[], forwardBatch?: number): LabelledTokens {
  const L = dimsOf(model).layers;
  const keep = Array.from({ length: Math.max(...layers) + 1 }, (_, i) => i).concat([L]);
  return labelItems(model, items, { candidates: layers, layers, keepHidden: keep, keepLogits: true, ...(forwardBatch ? { forwardBatch } : {}) });
}

export interface DepthStageOptions extends AgpRunOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  /** exit indices (1..L-1) that get a residual */
  readonly layers: readonly number[];
  readonly rank?: number;
  /** weight of 1 − cos(z, h_L) (default 0) */
  readonly hiddenWeight?: number;
  /** positions per step (default 256) */
  readonly batch?: number;
  readonly heads?: HeadSet;
  readonly forwardBatch?: number;
}

export async function trainDepthResiduals(o: DepthStageOptions): Promise<{ heads: HeadSet; fit: FitResult; tokens: number }> {
  const L = dimsOf(o.model).layers;
  const layers = checkIndices(o.model, "depth.layers", o.layers, 1, L - 1);
  return withFrozen(o.model, async () => {
    const t = observeForTraining(o.model, o.data.train, layers, o.forwardBatch);
    const C = dimsOf(o.model).channels;
    const V = dimsOf(o.model).vocab;
    const set: HeadSet = o.heads ?? new Map();
    const made = layers.map((layer) => createHead({ kind: "depth", layer, channels: C, rank: o.rank ?? 8 }, (o.seed ?? 0) + 31 * layer) as unknown as DepthResidual);
    const batch = Math.min(o.batch ?? 256, t.n);
    const hw = o.hiddenWeight ?? 0;
    const f = await fit({
      ...o,
      terms: ["depth"],
      params: made.flatMap((m) => m.namedParameters(`depth.${m.spec.layer}.`)),
      lossAt: (_s, lambdas, rng) => {
        const rows = Int32Array.from({ length: batch }, () => rng.int(t.n));
        const teacher = rowsOf(t.observation.finalLogits!, V, rows);
        const finalHidden = hw > 0 ? rowsOf(t.observation.hidden.get(L)!, C, rows) : undefined;
        let sum: Tensor | null = null;
        let kl = 0;
        for (const m of made) {
          const states = Array.from({ length: m.spec.layer + 1 }, (_, j) => rowsOf(t.observation.hidden.get(j)!, C, rows));
          const d = depthLoss(o.model, m.forward(states), teacher, { hiddenWeight: hw, ...(finalHidden ? { finalHidden } : {}) });
          kl += d.kl.item() / made.length;
          sum = sum ? add(sum, d.loss) : d.loss;
        }
        const lam = lambdas.depth ?? 0;
        return { loss: lam > 0 ? scale(sum!, lam / made.length) : null, parts: { depth: kl } };
      },
    });
    for (const m of made) addHead(set, m);
    return { heads: set, fit: f, tokens: t.n };
  });
}

export interface DepthEvalOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  /** the router whose path is measured (calibrateRouter on training prompts) */
  readonly router: RouterConfig;
  /** max depth_kl, nats/token (null: only the baselines decide) */
  readonly threshold?: number | null;
  readonly forwardBatch?: number;
}

/** Mean full-depth distribution over the training positions: the constant answer. */
function meanDistribution(logits: Float32Array, n: number, V: number): Float32Array {
  const p = new Float64Array(V);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]!);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[r * V + v]! - m);
    for (let v = 0; v < V; v++) p[v]! += Math.exp(logits[r * V + v]! - m) / z / n;
  }
  return Float32Array.from(p, (x) => Math.log(Math.max(x, 1e-30)));
}

/** The layer each token leaves at under the router (-1: full depth), from the route heads' P(accept_local). */
function routerExits(t: LabelledTokens, heads: HeadSet, router: RouterConfig): Int32Array {
  const exit = new Int32Array(t.n).fill(-1);
  const routes = headsOf<ClassifierHead>(heads, "route").filter((h) => router.thresholds[String(h.spec.layer)] !== undefined && t.layers.includes(h.spec.layer));
  for (const h of routes) {
    const tau = router.thresholds[String(h.spec.layer)]!;
    const p = classProbs(h, t);
    for (let r = 0; r < t.n; r++) if (exit[r] === -1 && p[r * 4 + Route.accept]! >= tau) exit[r] = h.spec.layer;
  }
  return exit;
}

/** Stage 3 gate: depth_kl (lower) on the router's path, against logit-lens exit at the same exits and the constant answer. */
export function evaluateDepthResiduals(o: DepthEvalOptions): GateReport {
  const residuals = headsOf<DepthResidual>(o.heads, "depth");
  if (residuals.length === 0) throw new ModelConfigError("heads", "no depth residual to evaluate (train stage 3 first)");
  const routes = headsOf<ClassifierHead>(o.heads, "route");
  if (routes.length === 0) throw new ModelConfigError("heads", "no route head: stage 3 is measured on the router's path (train stage 2 first)");
  const V = dimsOf(o.model).vocab;
  const C = dimsOf(o.model).channels;
  const L = dimsOf(o.model).layers;
  const routeLayers = routes.map((h) => h.spec.layer);
  const depthLayers = residuals.map((r) => r.spec.layer);
  const normRef = new Map(routes.map((h) => [h.spec.layer, h.spec.normRef]));
  const keep = Array.from({ length: Math.max(...routeLayers, ...depthLayers) + 1 }, (_, i) => i).concat([L]);
  const observe = (items: AgpData["train"]) => labelItems(o.model, items, {
    candidates: [...new Set([...routeLayers, ...depthLayers])].sort((a, b) => a - b), layers: routeLayers, normRef,
    keepHidden: keep, keepLogits: true, ...(o.forwardBatch ? { forwardBatch: o.forwardBatch } : {}),
  });
  const train = observe(o.data.train);
  const held = observe(o.data.heldOut);
  const logConst = meanDistribution(train.observation.finalLogits!, train.n, V);
  const n = held.n;
  const exit = routerExits(held, o.heads, o.router);
  const routedKl = new Float32Array(n);
  const lensKl = new Float32Array(n);
  const constKl = new Float32Array(n);
  const forced: Record<string, { residual_kl: number; lens_kl: number }> = {};
  const exits: Record<string, number> = { full: 0 };
  noGrad(() => {
    const klRows = (logits: Tensor, teacher: Tensor) => klDivergence(logits, teacher, { reduction: "none" }).f32();
    for (const layer of [...new Set([...routeLayers, ...depthLayers])].sort((a, b) => a - b)) {
      const rows = Int32Array.from({ length: n }, (_, i) => i);
      const teacher = rowsOf(held.observation.finalLogits!, V, rows);
      const states = Array.from({ length: layer + 1 }, (_, j) => rowsOf(held.observation.hidden.get(j)!, C, rows));
      const r = headAt<DepthResidual>(o.heads, "depth", layer);
      const lensLogits = o.model.logitLens(states[layer]!);
      const lk = klRows(lensLogits, teacher);
      const rk = r ? klRows(o.model.logitLens(r.forward(states)), teacher) : lk;
      if (r) forced[String(layer)] = { residual_kl: mean(rk), lens_kl: mean(lk) };
      if (!routeLayers.includes(layer)) continue;
      const cst = new Float32Array(n * V);
      for (let i = 0; i < n; i++) cst.set(logConst, i * V);
      const ck = klRows(fromArray(cst, [n, V]), teacher);
      let left = 0;
      for (let i = 0; i < n; i++) {
        if (exit[i] !== layer) continue;
        left++;
        routedKl[i] = (o.router.residual ?? true) ? rk[i]! : lk[i]!;
        lensKl[i] = lk[i]!;
        constKl[i] = ck[i]!;
      }
      exits[String(layer)] = left;
    }
  });
  exits.full = exit.reduce((k, e) => k + (e === -1 ? 1 : 0), 0);
  const routed = mean(routedKl);
  const lens = mean(lensKl);
  const constant = mean(constKl);
  const report = gateReport({
    stage: 3,
    metric: "depth_kl",
    value: routed,
    direction: "lower",
    threshold: o.threshold ?? null,
    score: { name: "routed KL", value: routed },
    named: { name: "logit-lens exit KL", value: lens },
    trivial: { name: "constant-distribution KL", value: constant },
    extraChecks: [{ name: "the router lets some tokens leave early", ok: exits.full < n, why: `the router lets none of the ${n} held-out tokens leave early (thresholds ${JSON.stringify(o.router.thresholds)})` }],
    details: {
      tokens: n, exits, mean_exit_layer: meanExit(exit, L), thresholds: o.router.thresholds, decoder: (o.router.residual ?? true) ? "depth residual" : "logit lens",
      forced_exits: forced,
    },
  });
  return {
    ...report,
    items: {
      measure: "KL(full depth ‖ routed) per held-out response token (0 where the router ran the full depth), nats",
      kind: "values",
      direction: "lower",
      score: { name: "routed (depth residual at the exit)", values: routedKl },
      named: { name: "logit-lens exit", values: lensKl, detail: "the same exits decoded by the final norm and head" },
      trivial: [{ name: "constant distribution", values: constKl, detail: "the training set's mean full-depth distribution at the same exits" }],
    },
  };
}

function mean(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v;
  return x.length ? s / x.length : Number.NaN;
}

function meanExit(exit: Int32Array, L: number): number {
  let s = 0;
  for (const e of exit) s += e === -1 ? L : e;
  return exit.length ? s / exit.length : Number.NaN;
}
