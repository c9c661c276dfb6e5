// Stage 3, the depth-routing residual. Training: at each exit index h a DepthResidual mixes
// the earlier states of the frozen model into the state the exit decodes, trained by
// λ_depth · KL(full-depth teacher ‖ lens(z)) (+ the optional hidden similarity to h_L) on the
// response tokens of the training prompts. Evaluation on held-out prompts: depth_kl = the mean
// over exits of KL(full ‖ routed exit), against plain logit-lens exit at the same layers (the
// named baseline) and the constant answer: the training set's mean full-depth distribution.
// Legend: n positions, C channels, V vocab.
import { type Tensor, add, fromArray, klDivergence, noGrad, scale } from "../../../kernels/mod.js";
import { ModelConfigError } from "../../errors.js";
import { DepthResidual, depthLoss } from "../../heads/depth.js";
import { type HeadSet, addHead, createHead, headAt, headsOf } from "../../heads/registry.js";
import { type LayeredModel, checkIndices, dimsOf } from "../../layered.js";
import type { AgpData, AgpRunOptions, GateReport } from "./common.js";
import { gateReport, withFrozen } from "./common.js";
import { type FitResult, fit } from "./fit.js";
import { type LabelledTokens, labelItems } from "./labelled.js";

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

function observe(model: LayeredModel, items: AgpData["train"], layers: readonly number[], forwardBatch?: number): LabelledTokens {
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
    const t = observe(o.model, o.data.train, layers, o.forwardBatch);
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

/** Stage 3 gate: depth_kl (lower) against logit-lens exit at the same layers and the constant answer. */
export function evaluateDepthResiduals(o: DepthEvalOptions): GateReport {
  const residuals = headsOf<DepthResidual>(o.heads, "depth");
  if (residuals.length === 0) throw new ModelConfigError("heads", "no depth residual to evaluate (train stage 3 first)");
  const layers = residuals.map((r) => r.spec.layer);
  const V = dimsOf(o.model).vocab;
  const C = dimsOf(o.model).channels;
  const train = observe(o.model, o.data.train, layers, o.forwardBatch);
  const held = observe(o.model, o.data.heldOut, layers, o.forwardBatch);
  const logConst = meanDistribution(train.observation.finalLogits!, train.n, V);
  const n = held.n;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const perLayer: Record<string, { residual_kl: number; lens_kl: number }> = {};
  let routed = 0;
  let lens = 0;
  const constant = noGrad(() => {
    const constLogits = new Float32Array(n * V);
    for (let r = 0; r < n; r++) constLogits.set(logConst, r * V);
    return klDivergence(fromArray(constLogits, [n, V]), rowsOf(held.observation.finalLogits!, V, all)).item();
  });
  noGrad(() => {
    const teacher = rowsOf(held.observation.finalLogits!, V, all);
    for (const r of residuals) {
      const states = Array.from({ length: r.spec.layer + 1 }, (_, j) => rowsOf(held.observation.hidden.get(j)!, C, all));
      const kl = klDivergence(o.model.logitLens(r.forward(states)), teacher).item();
      // the same arithmetic as the residual's: an untrained residual ties the lens exactly
      const lk = klDivergence(o.model.logitLens(states[r.spec.layer]!), teacher).item();
      perLayer[String(r.spec.layer)] = { residual_kl: kl, lens_kl: lk };
      routed += kl / residuals.length;
      lens += lk / residuals.length;
    }
  });
  return gateReport({
    stage: 3,
    metric: "depth_kl",
    value: routed,
    direction: "lower",
    threshold: o.threshold ?? null,
    score: { name: "routed exit KL", value: routed },
    named: { name: "logit-lens exit KL", value: lens },
    trivial: { name: "constant-distribution KL", value: constant },
    details: { tokens: n, layers: perLayer },
  });
}
