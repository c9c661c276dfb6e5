// Stage 4, the semantic projection. Training: a weak labeler (the rule-based default, or any
// WeakLabeler) gives every response step a multi-hot vector over its primitives; a semantic
// head at one layer learns them from the head input, BCE + λ_l1 · mean activation (dense →
// sparse), weighted by λ_sem. Evaluation on held-out prompts:
//   stable    the loss did not diverge, the mean cosine of each prompt's pooled activations
//             with its nearest same-domain neighbour (edit distance) is ≥ minStability, and
//             exceeds that of cross-domain pairs by ≥ minContrast (a collapsed projection is
//             equally similar everywhere)
//   improves  route and vitality heads at the same layer, trained with the activations as
//             extra inputs, against the same heads trained without them (named baseline) and
//             with a constant vector of the same width (trivial baseline: training noise),
//             each averaged over `repeats` seeds. Both gains — route accuracy, and the AUROC
//             of "dead" — are measured with a 95 % paired bootstrap interval over held-out
//             tokens, and a gain counts by its interval's lower bound, so a noise-level
//             difference does not: sem_gain = the larger of the two lower bounds (0 when
//             unstable), against the same for the constant vector.
// Stable but not improving is the director's `passed_off_path`: details.off_path says so.
// Legend: n positions, P labels, F features.
import { bootstrapStat, pairedBootstrap } from "../../../data/mod.js";
import { fromArray, noGrad, scale as scaleBy, sigmoid } from "../../../kernels/mod.js";
import { ModelConfigError, StageDataError } from "../../errors.js";
import { ClassifierHead } from "../../heads/classifier.js";
import { semanticLoss } from "../../heads/losses.js";
import { auroc, classScores, multiLabelScores } from "../../heads/metrics.js";
import { type HeadSet, addHead, createHead, headsOf } from "../../heads/registry.js";
import { type WeakLabeler, ruleLabeler } from "../../heads/weak-labels.js";
import type { LayeredModel } from "../../layered.js";
import { type OracleConfig, Vitality } from "../../oracle/labels.js";
import { type AgpData, type AgpItem, type AgpRunOptions, type GateReport, gateReport, withFrozen } from "./common.js";
import { type FitResult, fit } from "./fit.js";
import { type ExternalLabels, type LabelledTokens, labelItems } from "./labelled.js";
import { classProbs, trainClassifiers } from "./route.js";

/** Weak labels [n, P] of every labelled position. */
export function weakLabels(t: LabelledTokens, items: readonly AgpItem[], labeler: WeakLabeler): Float32Array {
  const P = labeler.vocabulary.length;
  const out = new Float32Array(t.n * P);
  const cache = new Map<number, Uint8Array>();
  for (let r = 0; r < t.n; r++) {
    const i = t.item[r]!;
    let l = cache.get(i);
    if (!l) {
      l = labeler.label(items[i]!);
      cache.set(i, l);
    }
    const s = t.stepOf[r]!;
    if (s < 0 || (s + 1) * P > l.length) throw new StageDataError(`labeler ${labeler.name} gave ${l.length / P} steps for item ${i}, position needs step ${s}`);
    for (let p = 0; p < P; p++) out[r * P + p] = l[s * P + p]!;
  }
  return out;
}

/** Sigmoid activations [n, P] of a semantic head on labelled tokens. */
export function semanticActivations(head: ClassifierHead, t: LabelledTokens): Float32Array {
  const F = head.spec.inFeatures;
  const x = t.features.get(head.spec.layer)!;
  return noGrad(() => sigmoid(head.forward(fromArray(x, [t.n, F]))).f32().slice());
}

export interface SemanticStageOptions extends AgpRunOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  /** the residual index the head reads */
  readonly layer: number;
  readonly labeler?: WeakLabeler;
  /** λ_l1 of the sparsity term (default 0.01) */
  readonly l1?: number;
  readonly hidden?: number;
  readonly batch?: number;
  readonly heads?: HeadSet;
  readonly oracle?: Partial<OracleConfig>;
  /** the reference norm of the layer (default: the median over the training positions) */
  readonly normRef?: number;
}

export async function trainSemantic(o: SemanticStageOptions): Promise<{ heads: HeadSet; fit: FitResult; tokens: number; labelRate: number }> {
  const labeler = o.labeler ?? ruleLabeler();
  return withFrozen(o.model, async () => {
    const t = labelItems(o.model, o.data.train, { candidates: [o.layer], layers: [o.layer], ...(o.oracle ? { oracle: o.oracle } : {}), ...(o.normRef !== undefined ? { normRef: new Map([[o.layer, o.normRef]]) } : {}) });
    const y = weakLabels(t, o.data.train, labeler);
    const P = labeler.vocabulary.length;
    const F = t.features.get(o.layer)!.length / t.n;
    const head = createHead({ kind: "semantic", layer: o.layer, inFeatures: F, hidden: o.hidden ?? 64, outputs: labeler.vocabulary, extra: 0, normRef: t.normRef.get(o.layer)! }, (o.seed ?? 0) + 97) as unknown as ClassifierHead;
    const batch = Math.min(o.batch ?? 256, t.n);
    const x = t.features.get(o.layer)!;
    const f = await fit({
      ...o,
      terms: ["sem"],
      params: head.namedParameters(`semantic.${o.layer}.`),
      lossAt: (_s, lambdas, rng) => {
        const rows = Int32Array.from({ length: batch }, () => rng.int(t.n));
        const xb = new Float32Array(batch * F);
        const yb = new Float32Array(batch * P);
        rows.forEach((r, i) => {
          xb.set(x.subarray(r * F, (r + 1) * F), i * F);
          yb.set(y.subarray(r * P, (r + 1) * P), i * P);
        });
        const s = semanticLoss(head.forward(fromArray(xb, [batch, F])), fromArray(yb, [batch, P]), o.l1 ?? 0.01);
        const lam = lambdas.sem ?? 0;
        return { loss: lam > 0 ? scaleBy(s.loss, lam) : null, parts: { sem: s.loss.item(), bce: s.bce.item(), sparsity: s.sparsity.item() } };
      },
    });
    const set = o.heads ?? new Map();
    addHead(set, head);
    return { heads: set, fit: f, tokens: t.n, labelRate: y.reduce((a, b) => a + b, 0) / t.n };
  });
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : aa === bb ? 1 : 0;
}

export interface Stability {
  readonly neighbour: number;
  readonly crossDomain: number;
  readonly contrast: number;
  readonly pairs: number;
  readonly meanEditDistance: number;
}

/** Mean cosine of pooled activations: nearest same-domain/difficulty neighbours vs cross-domain pairs. */
export function activationStability(acts: Float32Array, t: LabelledTokens, items: readonly AgpItem[], P: number): Stability {
  const pooled = new Map<number, { sum: Float32Array; n: number }>();
  for (let r = 0; r < t.n; r++) {
    const i = t.item[r]!;
    const e = pooled.get(i) ?? { sum: new Float32Array(P), n: 0 };
    for (let p = 0; p < P; p++) e.sum[p]! += acts[r * P + p]!;
    e.n++;
    pooled.set(i, e);
  }
  const ids = [...pooled.keys()].sort((a, b) => a - b);
  const vec = new Map(ids.map((i) => [i, pooled.get(i)!.sum.map((v) => v / pooled.get(i)!.n)]));
  let nSum = 0;
  let cSum = 0;
  let pairs = 0;
  let cross = 0;
  let edits = 0;
  for (const i of ids) {
    const it = items[i]!;
    let best = -1;
    let bestD = Infinity;
    let other = -1;
    for (const j of ids) {
      if (j === i) continue;
      const jt = items[j]!;
      if (jt.domain === it.domain && jt.difficulty === it.difficulty) {
        const d = editDistance(it.prompt, jt.prompt);
        if (d < bestD) {
          bestD = d;
          best = j;
        }
      } else if (other < 0 && jt.domain !== it.domain && j > i) other = j;
    }
    if (best >= 0) {
      nSum += cosine(vec.get(i)!, vec.get(best)!);
      edits += bestD;
      pairs++;
    }
    if (other >= 0) {
      cSum += cosine(vec.get(i)!, vec.get(other)!);
      cross++;
    }
  }
  const neighbour = pairs ? nSum / pairs : NaN;
  const crossDomain = cross ? cSum / cross : NaN;
  return { neighbour, crossDomain, contrast: neighbour - crossDomain, pairs, meanEditDistance: pairs ? edits / pairs : NaN };
}

export interface SemanticEvalOptions extends Omit<AgpRunOptions, "lambdas"> {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  readonly labeler?: WeakLabeler;
  readonly oracle?: Partial<OracleConfig>;
  /** min sem_gain (default 0: strictly positive) */
  readonly threshold?: number | null;
  readonly minStability?: number;
  readonly minContrast?: number;
  /** whether the training loss stayed finite and fell (from trainSemantic's fit); default true */
  readonly converged?: boolean;
  /** seeds each comparison head is trained with; gains are averaged over them (default 1) */
  readonly repeats?: number;
  /** candidate layers the route labels are made over (default: the head's layer alone) */
  readonly candidates?: readonly number[];
  /** the oracle's labels of data.train and data.heldOut (made over `candidates`) */
  readonly labels?: { readonly train?: ExternalLabels; readonly heldOut?: ExternalLabels };
}

/** Stage 4 gate: stable, and sem_gain beats the heads without it and with a constant vector. */
export async function evaluateSemantic(o: SemanticEvalOptions): Promise<GateReport> {
  const head = headsOf<ClassifierHead>(o.heads, "semantic")[0];
  if (!head) throw new ModelConfigError("heads", "no semantic head to evaluate (train stage 4 first)");
  const labeler = o.labeler ?? ruleLabeler();
  const layer = head.spec.layer;
  const P = head.spec.outputs.length;
  if (P !== labeler.vocabulary.length) throw new ModelConfigError("semantic.labeler", `the head has ${P} outputs, the labeler ${labeler.vocabulary.length} labels`);
  const base = { candidates: o.candidates ?? [layer], layers: [layer], ...(o.oracle ? { oracle: o.oracle } : {}) };
  return withFrozen(o.model, async () => {
    const normRef = new Map([[layer, head.spec.normRef]]);
    const train = labelItems(o.model, o.data.train, { ...base, normRef, ...(o.labels?.train ? { labels: o.labels.train } : {}) });
    const held = labelItems(o.model, o.data.heldOut, { ...base, normRef, ...(o.labels?.heldOut ? { labels: o.labels.heldOut } : {}) });
    const trainActs = semanticActivations(head, train);
    const heldActs = semanticActivations(head, held);
    // semantic quality against the weak labels, and the per-label prior as the constant answer
    const yTrain = weakLabels(train, o.data.train, labeler);
    const yHeld = weakLabels(held, o.data.heldOut, labeler);
    const prior = Array.from({ length: P }, (_, p) => { let s = 0; for (let r = 0; r < train.n; r++) s += yTrain[r * P + p]!; return s / train.n; });
    const priorPred = Float32Array.from({ length: held.n * P }, (_, i) => (prior[i % P]! > 0.5 ? 1 : 0));
    const sem = multiLabelScores(heldActs, yHeld, held.n, P);
    const semPrior = multiLabelScores(priorPred, yHeld, held.n, P);
    const stab = activationStability(heldActs, held, o.data.heldOut, P);
    const minStability = o.minStability ?? 0.8;
    const minContrast = o.minContrast ?? 0.05;
    const converged = o.converged ?? true;
    const stable = converged && stab.neighbour >= minStability && stab.contrast >= minContrast;
    // the heads with and without the semantic activations, and with a constant vector of the same width
    const run = { steps: o.steps, ...(o.lr !== undefined ? { lr: o.lr } : {}), seed: o.seed ?? 0, ...(o.signal ? { signal: o.signal } : {}) };
    const constant = (n: number) => Float32Array.from({ length: n * P }, (_, i) => prior[i % P]!);
    const variants = {
      plain: { train: null, held: null },
      semantic: { train: new Map([[layer, trainActs]]), held: new Map([[layer, heldActs]]) },
      constant: { train: new Map([[layer, constant(train.n)]]), held: new Map([[layer, constant(held.n)]]) },
    };
    const hr = held.labels.heads[0]!;
    const dead = Array.from(hr.vitality, (x) => x === Vitality.dead);
    const repeats = o.repeats ?? 1;
    // per held-out token, averaged over the seeds: route correctness and P(dead)
    const per: Record<string, { correct: Float32Array; pDead: Float32Array }> = {};
    for (const [name, v] of Object.entries(variants)) {
      const correct = new Float32Array(held.n);
      const pDead = new Float32Array(held.n);
      for (let k = 0; k < repeats; k++) {
        const { heads } = await trainClassifiers({ ...run, seed: run.seed + 1000 * k, tokens: train, kinds: ["route", "vitality"], extra: v.train });
        const route = [...heads.values()].find((h) => h.spec.kind === "route") as unknown as ClassifierHead;
        const vit = [...heads.values()].find((h) => h.spec.kind === "vitality") as unknown as ClassifierHead;
        const rp = classProbs(route, held, v.held);
        const vp = classProbs(vit, held, v.held);
        for (let r = 0; r < held.n; r++) {
          if (argmax(rp, r, 4) === hr.route[r]) correct[r]! += 1 / repeats;
          pDead[r]! += vp[r * 4 + Vitality.dead]! / repeats;
        }
      }
      per[name] = { correct, pDead };
    }
    const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
    const scores: Record<string, { accuracy: number; dead_auroc: number }> = Object.fromEntries(
      Object.entries(per).map(([k, v]) => [k, { accuracy: mean(v.correct), dead_auroc: auroc(v.pDead, dead) }]),
    );
    const seed = o.seed ?? 0;
    const gainOf = (name: string) => {
      const a = per[name]!;
      const b = per.plain!;
      const accuracy = scores[name]!.accuracy - scores.plain!.accuracy;
      const accuracyCi = pairedBootstrap(a.correct, b.correct, { seed });
      const deadGain = nanToZero(scores[name]!.dead_auroc - scores.plain!.dead_auroc);
      const deadCi = Number.isFinite(scores.plain!.dead_auroc)
        ? bootstrapStat(held.n, (idx) => {
            const d = Array.from(idx, (i) => dead[i]!);
            return auroc(Array.from(idx, (i) => a.pDead[i]!), d) - auroc(Array.from(idx, (i) => b.pDead[i]!), d);
          }, { seed, resamples: 400 })
        : ([0, 0] as const);
      const lower = Math.max(accuracyCi[0], nanToZero(deadCi[0]));
      return { accuracy, accuracy_ci: accuracyCi, dead_auroc: deadGain, dead_auroc_ci: deadCi, lower };
    };
    const semantic = gainOf("semantic");
    const control = gainOf("constant");
    const semGain = semantic.lower;
    const value = stable ? semGain : 0;
    const improves = stable && semGain > 0 && semGain > control.lower;
    const report = gateReport({
      stage: 4,
      metric: "sem_gain",
      value,
      direction: "higher",
      threshold: o.threshold === undefined ? 0 : o.threshold,
      score: { name: "gain with the semantic layer (95% lower bound)", value },
      named: { name: "gain without it", value: 0 },
      trivial: { name: "gain with a constant vector (95% lower bound)", value: control.lower },
      extraChecks: [{ name: "stable: loss fell, neighbouring prompts similar, cross-domain pairs less so", ok: stable, why: `unstable: ${!converged ? "the training loss diverged; " : ""}neighbour similarity ${stab.neighbour.toFixed(3)} (min ${minStability}), contrast with cross-domain pairs ${stab.contrast.toFixed(3)} (min ${minContrast})` }],
      details: {
        layer, stable, off_path: stable && !improves, stability: stab, micro_f1: sem.microF1, prior_micro_f1: semPrior.microF1,
        active_per_token: sem.activePerSample, per_label_f1: Object.fromEntries(labeler.vocabulary.map((l, i) => [l, sem.perLabelF1[i]])), heads: scores,
        gains: { semantic, constant_vector: control }, repeats, tokens: held.n,
      },
    });
    return {
      ...report,
      items: {
        measure: `route correctness per held-out token at index ${layer}, averaged over ${repeats} seed${repeats === 1 ? "" : "s"}`,
        kind: "values",
        direction: "higher",
        score: { name: "route head with the semantic activations", values: per.semantic!.correct },
        named: { name: "route head without them", values: per.plain!.correct },
        trivial: [{ name: "route head with a constant vector", values: per.constant!.correct, detail: "the training prior of every label, the same width" }],
      },
    };
  });
}

const nanToZero = (x: number) => (Number.isFinite(x) ? x : 0);
function argmax(p: Float32Array, r: number, K: number): number {
  let best = 0;
  for (let k = 1; k < K; k++) if (p[r * K + k]! > p[r * K + best]!) best = k;
  return best;
}
