// Stage 2, route + vitality heads. Training: the oracle labels every response token of the
// training prompts at the candidate layers (logit lens, or a tuned lens); at each head layer a
// route head (4 classes, confidence-weighted CE) and a vitality head (4 regimes, the same loss)
// learn them, λ_route L_route + λ_vit L_vit. Evaluation on held-out prompts: route accuracy and
// macro-F1 against entropy-only routing fitted on the same training labels (the named
// baseline) and the majority class (the best constant answer); vitality ECE with its
// calibration bins and the AUROC of "dead" (against the entropy score).
// Legend: n positions, F features, E extra features, K classes.
import { type Tensor, add as addT, fromArray, noGrad, scale as scaleT, softmax } from "../../../kernels/mod.js";
import { ModelConfigError, StageDataError } from "../../errors.js";
import { fitEntropyRouting, majorityClass } from "../../heads/baselines.js";
import { ClassifierHead } from "../../heads/classifier.js";
import { weightedCrossEntropy } from "../../heads/losses.js";
import { auroc, classScores, expectedCalibrationError } from "../../heads/metrics.js";
import { type HeadSet, addHead, createHead, headAt } from "../../heads/registry.js";
import type { LayeredModel } from "../../layered.js";
import { type OracleConfig, ROUTE_CLASSES, VITALITY_CLASSES, Vitality, classCounts } from "../../oracle/labels.js";
import { type AgpData, type AgpRunOptions, type GateReport, gateReport, withFrozen } from "./common.js";
import { type FitResult, fit } from "./fit.js";
import { type ExternalLabels, type LabelOptions, type LabelledTokens, labelItems } from "./labelled.js";

export type ClassKind = "route" | "vitality";

function labelsOf(t: LabelledTokens, kind: ClassKind, layer: number): { y: Int32Array; c: Float32Array } {
  const h = t.labels.heads.find((x) => x.layer === layer)!;
  return kind === "route" ? { y: h.route, c: h.routeConfidence } : { y: h.vitality, c: h.vitalityConfidence };
}

function inputRows(t: LabelledTokens, layer: number, extra: ReadonlyMap<number, Float32Array> | null, rows: ArrayLike<number>): { x: Float32Array; F: number } {
  const base = t.features.get(layer)!;
  const F0 = base.length / t.n;
  const ex = extra?.get(layer) ?? null;
  const E = ex ? ex.length / t.n : 0;
  const x = new Float32Array(rows.length * (F0 + E));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    x.set(base.subarray(r * F0, (r + 1) * F0), i * (F0 + E));
    if (ex) x.set(ex.subarray(r * E, (r + 1) * E), i * (F0 + E) + F0);
  }
  return { x, F: F0 + E };
}

/** Class probabilities [n, K] of a classifier head on labelled tokens (no gradient). */
export function classProbs(head: ClassifierHead, t: LabelledTokens, extra: ReadonlyMap<number, Float32Array> | null = null): Float32Array {
  const layer = head.spec.layer;
  const K = head.spec.outputs.length;
  const out = new Float32Array(t.n * K);
  const chunk = 4096;
  noGrad(() => {
    for (let s = 0; s < t.n; s += chunk) {
      const rows = Int32Array.from({ length: Math.min(chunk, t.n - s) }, (_, i) => s + i);
      const { x, F } = inputRows(t, layer, extra, rows);
      out.set(softmax(head.forward(fromArray(x, [rows.length, F]))).f32(), s * K);
    }
  });
  return out;
}

export interface ClassifierTrainOptions extends AgpRunOptions {
  readonly tokens: LabelledTokens;
  readonly kinds: readonly ClassKind[];
  /** MLP units (default 64) */
  readonly hidden?: number;
  /** extra features per head layer [n, E] (stage 4: semantic activations) */
  readonly extra?: ReadonlyMap<number, Float32Array> | null;
  /** positions per step (default 256) */
  readonly batch?: number;
  /** add to this set (default: a new one) */
  readonly heads?: HeadSet;
}

/** Trains route and/or vitality heads at every layer of `tokens` on its labels. */
export async function trainClassifiers(o: ClassifierTrainOptions): Promise<{ heads: HeadSet; fit: FitResult }> {
  const t = o.tokens;
  const set: HeadSet = o.heads ?? new Map();
  const seed = o.seed ?? 0;
  const extra = o.extra ?? null;
  const made: { kind: ClassKind; layer: number; head: ClassifierHead }[] = [];
  for (const layer of t.layers) {
    const E = extra?.get(layer) ? extra.get(layer)!.length / t.n : 0;
    const F = t.features.get(layer)!.length / t.n + E;
    for (const kind of o.kinds) {
      const head = createHead({ kind, layer, inFeatures: F, hidden: o.hidden ?? 64, outputs: kind === "route" ? ROUTE_CLASSES : VITALITY_CLASSES, extra: E, normRef: t.normRef.get(layer)! }, seed + layer * 7 + (kind === "route" ? 1 : 2)) as unknown as ClassifierHead;
      made.push({ kind, layer, head });
    }
  }
  const batch = Math.min(o.batch ?? 256, t.n);
  const terms = o.kinds.map((k): "route" | "vit" => (k === "route" ? "route" : "vit"));
  const result = await fit({
    ...o,
    terms,
    params: made.flatMap((m) => m.head.namedParameters(`${m.kind}.${m.layer}.`)),
    lossAt: (_step, lambdas, rng) => {
      const rows = Int32Array.from({ length: batch }, () => rng.int(t.n));
      const parts: Record<string, number> = {};
      let loss: Tensor | null = null;
      const sums: Record<ClassKind, Tensor | null> = { route: null, vitality: null };
      for (const m of made) {
        const { x, F } = inputRows(t, m.layer, extra, rows);
        const { y, c } = labelsOf(t, m.kind, m.layer);
        const ce = weightedCrossEntropy(m.head.forward(fromArray(x, [batch, F])), Int32Array.from(rows, (r) => y[r]!), Float32Array.from(rows, (r) => c[r]!));
        const prev = sums[m.kind];
        sums[m.kind] = prev ? addT(prev, ce) : ce;
      }
      for (const kind of o.kinds) {
        const term = kind === "route" ? "route" : "vit";
        const mean = scaleT(sums[kind]!, 1 / t.layers.length);
        parts[term] = mean.item();
        const lam = lambdas[term] ?? 0;
        if (lam > 0) loss = loss ? addT(loss, scaleT(mean, lam)) : scaleT(mean, lam);
      }
      return { loss, parts };
    },
  });
  for (const m of made) addHead(set, m.head);
  return { heads: set, fit: result };
}

export interface RouteStageOptions extends AgpRunOptions, Omit<LabelOptions, "keepHidden" | "keepLogits"> {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly hidden?: number;
  readonly batch?: number;
  readonly heads?: HeadSet;
}

export interface RouteStageResult {
  readonly heads: HeadSet;
  readonly fit: FitResult;
  readonly tokens: number;
  readonly oracle: OracleConfig;
  /** class counts of the training labels per head layer */
  readonly counts: Record<string, { route: number[]; vitality: number[] }>;
  readonly labelled: LabelledTokens;
}

/** Stage 2 training: oracle labels on the training prompts, then the route and vitality heads. */
export async function trainRouteVitality(o: RouteStageOptions): Promise<RouteStageResult> {
  return withFrozen(o.model, async () => {
    const labelled = labelItems(o.model, o.data.train, o);
    const { heads, fit: f } = await trainClassifiers({ ...o, tokens: labelled, kinds: ["route", "vitality"], heads: o.heads ?? new Map() });
    const counts: RouteStageResult["counts"] = {};
    for (const h of labelled.labels.heads) counts[h.layer] = { route: classCounts(h.route, 4), vitality: classCounts(h.vitality, 4) };
    return { heads, fit: f, tokens: labelled.n, oracle: labelled.oracle, counts, labelled };
  });
}

export interface RouteEvalOptions extends Omit<LabelOptions, "normRef" | "keepHidden" | "keepLogits" | "layers" | "labels"> {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  /** min route_gain (default: 0, strictly better) */
  readonly threshold?: number | null;
  /** the training labels, if the caller has them (else made again from data.train) */
  readonly trainTokens?: LabelledTokens;
  /** the oracle's labels of data.train and data.heldOut (else labelled here) */
  readonly labels?: { readonly train?: ExternalLabels; readonly heldOut?: ExternalLabels };
}

/** Stage 2 gate: route_gain = route-head accuracy − entropy-only accuracy on held-out prompts. */
export function evaluateRouteVitality(o: RouteEvalOptions): GateReport {
  const heads = o.heads;
  const layers = [...o.heads.values()].filter((h) => h.spec.kind === "route").map((h) => h.spec.layer).sort((a, b) => a - b);
  if (layers.length === 0) throw new ModelConfigError("heads", "no route head to evaluate (train stage 2 first)");
  const normRef = new Map(layers.map((l) => [l, headAt<ClassifierHead>(heads, "route", l)!.spec.normRef]));
  const { labels: _l, ...label } = o;
  const train = o.trainTokens ?? labelItems(o.model, o.data.train, { ...label, layers, normRef, ...(o.labels?.train ? { labels: o.labels.train } : {}) });
  const held = labelItems(o.model, o.data.heldOut, { ...label, layers, normRef, ...(o.labels?.heldOut ? { labels: o.labels.heldOut } : {}) });
  const pooled = { pred: [] as number[], y: [] as number[], ent: [] as number[], maj: [] as number[] };
  const perLayer: Record<string, unknown> = {};
  let deadAuc = 0;
  let deadAucEntropy = 0;
  let eceSum = 0;
  for (const layer of layers) {
    const route = headAt<ClassifierHead>(heads, "route", layer)!;
    const { y } = labelsOf(held, "route", layer);
    const probs = classProbs(route, held);
    const pred = Int32Array.from({ length: held.n }, (_, r) => argmax4(probs, r));
    const tr = labelsOf(train, "route", layer).y;
    const entropyFit = fitEntropyRouting(train.entropy.get(layer)!, tr, 4);
    const entPred = entropyFit.predict(held.entropy.get(layer)!);
    const maj = majorityClass(tr, 4);
    const majPred = maj.predict(y);
    const s = classScores(pred, y, 4);
    const se = classScores(entPred, y, 4);
    const sm = classScores(majPred, y, 4);
    pooled.pred.push(...pred);
    pooled.y.push(...y);
    pooled.ent.push(...entPred);
    pooled.maj.push(...majPred);
    const vit = headAt<ClassifierHead>(heads, "vitality", layer);
    let vitality: Record<string, unknown> | null = null;
    if (vit) {
      const vy = labelsOf(held, "vitality", layer).y;
      const vp = classProbs(vit, held);
      const cal = expectedCalibrationError(vp, vy, 4);
      const dead = Array.from(vy, (v) => v === Vitality.dead);
      const auc = auroc(Array.from({ length: held.n }, (_, r) => vp[r * 4 + Vitality.dead]!), dead);
      const aucEnt = auroc(held.entropy.get(layer)!, dead);
      deadAuc += auc / layers.length;
      deadAucEntropy += aucEnt / layers.length;
      eceSum += cal.ece / layers.length;
      vitality = { ece: cal.ece, calibration: cal.bins, dead_auroc: auc, dead_auroc_entropy: aucEnt, accuracy: classScores(Int32Array.from({ length: held.n }, (_, r) => argmax4(vp, r)), vy, 4).accuracy, counts: classCounts(vy, 4) };
    }
    perLayer[String(layer)] = {
      accuracy: s.accuracy, macro_f1: s.macroF1, entropy_accuracy: se.accuracy, entropy_macro_f1: se.macroF1,
      majority_accuracy: sm.accuracy, majority_class: ROUTE_CLASSES[maj.cls], confusion: s.confusion, counts: classCounts(y, 4), vitality,
    };
  }
  if (pooled.y.length === 0) throw new StageDataError("no held-out response tokens to evaluate the route heads on");
  const s = classScores(pooled.pred, pooled.y, 4);
  const se = classScores(pooled.ent, pooled.y, 4);
  const sm = classScores(pooled.maj, pooled.y, 4);
  const hits = (pred: number[]) => Float32Array.from(pred, (p, i) => (p === pooled.y[i] ? 1 : 0));
  const report = gateReport({
    stage: 2,
    metric: "route_gain",
    value: s.accuracy - se.accuracy,
    direction: "higher",
    threshold: o.threshold === undefined ? 0 : o.threshold,
    score: { name: "route-head accuracy", value: s.accuracy },
    named: { name: "entropy-only accuracy", value: se.accuracy },
    trivial: { name: "majority-class accuracy", value: sm.accuracy },
    extraChecks: [
      { name: "route-head macro-F1 beats entropy-only routing", ok: s.macroF1 > se.macroF1, why: `route-head macro-F1 ${s.macroF1.toFixed(3)} does not beat entropy-only ${se.macroF1.toFixed(3)}` },
      { name: "route-head macro-F1 beats the majority class", ok: s.macroF1 > sm.macroF1, why: `route-head macro-F1 ${s.macroF1.toFixed(3)} does not beat the majority class ${sm.macroF1.toFixed(3)}` },
    ],
    details: {
      tokens: pooled.y.length, macro_f1: s.macroF1, entropy_macro_f1: se.macroF1, majority_macro_f1: sm.macroF1,
      vitality: { ece: eceSum, dead_auroc: deadAuc, dead_auroc_entropy: deadAucEntropy }, layers: perLayer, oracle: held.oracle,
      labels_differing_from_own: { train: train.externalMismatch, held_out: held.externalMismatch },
    },
  });
  return {
    ...report,
    items: {
      measure: `route class of held-out response tokens at head layers ${layers.join(", ")}`,
      kind: "hits",
      direction: "higher",
      score: { name: "route head", values: hits(pooled.pred) },
      named: { name: "entropy-only routing", values: hits(pooled.ent), detail: "16 equal-count entropy bins fitted on the training labels, majority class per bin" },
      trivial: [{ name: "majority class", values: hits(pooled.maj), detail: "the most frequent training route class per head layer" }],
    },
  };
}

function argmax4(p: Float32Array, r: number): number {
  let best = 0;
  for (let k = 1; k < 4; k++) if (p[r * 4 + k]! > p[r * 4 + best]!) best = k;
  return best;
}
