// Stage 6, the joint finetune: the model's adapters (LoRA/DoRA parameters; never the frozen
// base) and every head train together for a short while on the composite loss
//   L = λ_sft L_sft + λ_route L_route + λ_vit L_vit + λ_depth L_depth + λ_sem L_sem + λ_transfer L_transfer
// with the oracle's labels made on the fly from the current model (its own full depth is the
// teacher, detached; candidates decoded by the tuned lens — the depth residual — where one is
// trained, as routed decoding decodes its exits, else by the logit lens). Evaluation: quality per
// compute per held-out prompt = its routed exact match / the blocks per token it ran, averaged
// over prompts, after vs before the finetune (the named baseline), and against the best fixed
// policy (full depth, or every token leaving at one head layer: the trivial baselines), with a
// paired bootstrap interval of the relative gain over prompts. runJointStage rolls the weights
// back when the gate fails.
// Legend: B batch, T time, N = B·T, C channels, V vocab, P semantic labels.
import { bootstrapStat } from "../../../data/mod.js";
import { type Tensor, add, bceWithLogits, clone, crossEntropy, fromArray, klDivergence, mean, mul, noGrad, reshape as reshapeT, scale, sigmoid, sum } from "../../../kernels/mod.js";
import { ModelConfigError } from "../../errors.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import type { DepthResidual } from "../../heads/depth.js";
import { STATS, headInput, statFeatures } from "../../heads/features.js";
import { weightedCrossEntropy } from "../../heads/losses.js";
import { type HeadSet, headParameters, headsOf, restoreParams, snapshotParams } from "../../heads/registry.js";
import { DEFAULT_TRANSFER_WEIGHTS, type TransferAdapter, transferLoss } from "../../heads/transfer.js";
import { type WeakLabeler, ruleLabeler } from "../../heads/weak-labels.js";
import { type LayeredModel, dimsOf } from "../../layered.js";
import { isAdapterParam } from "../../lora/mod.js";
import { type CandidateView, type OracleConfig, labelTokens, resolveOracleConfig } from "../../oracle/labels.js";
import { argmaxRows, lensStats, rowNorms } from "../../oracle/stats.js";
import { calibrateRouter } from "./calibrate.js";
import { type AgpData, type AgpRunOptions, type GateReport, blockFor, gateReport, makeBatch } from "./common.js";
import { headContext } from "./context.js";
import { type FitResult, fit } from "./fit.js";
import { type ArchitectureReport, type RouterConfig, measureRouted } from "./routed.js";

export interface JointStageOptions extends AgpRunOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  /** candidate layers the on-the-fly oracle decodes (must include every route head's layer) */
  readonly candidates: readonly number[];
  readonly oracle?: Partial<OracleConfig>;
  readonly labeler?: WeakLabeler;
  /** prompts per step (default 16) */
  readonly batch?: number;
  /** λ_l1 of the semantic term (default 0.01) */
  readonly l1?: number;
  /** how the on-the-fly oracle decodes candidates: "tuned" (the depth residual where trained; default) or "lens" */
  readonly decode?: "tuned" | "lens";
}

/** The model's adapter parameters (LoRA/DoRA) that train; the base stays frozen. */
function adapterParams(model: LayeredModel): [string, Tensor][] {
  return model.namedParameters().filter(([n, t]) => isAdapterParam(n) && t.requiresGrad).map(([n, t]) => [`model.${n}`, t]);
}

/** Everything stage 6 trains: the model's adapters and every head. */
export function jointParameters(model: LayeredModel, heads: HeadSet): [string, Tensor][] {
  return [...adapterParams(model), ...headParameters(heads)];
}

export async function trainJoint(o: JointStageOptions): Promise<{ fit: FitResult; trained: number }> {
  const { model, heads } = o;
  const C = dimsOf(model).channels;
  const V = dimsOf(model).vocab;
  const cfg = resolveOracleConfig(o.oracle);
  const cands = [...o.candidates].sort((a, b) => a - b);
  const routes = headsOf<ClassifierHead>(heads, "route");
  const vits = headsOf<ClassifierHead>(heads, "vitality");
  const residuals = headsOf<DepthResidual>(heads, "depth");
  const sems = headsOf<ClassifierHead>(heads, "semantic");
  const adapters = headsOf<TransferAdapter>(heads, "transfer");
  const headLayers = [...new Set([...routes, ...vits, ...sems].map((h) => h.spec.layer))].sort((a, b) => a - b);
  for (const l of headLayers) if (!cands.includes(l)) throw new ModelConfigError("joint.candidates", `head layer ${l} is not a candidate layer [${cands.join(", ")}]`);
  const normRef = new Map([...routes, ...vits, ...sems].map((h) => [h.spec.layer, h.spec.normRef]));
  const labeler = o.labeler ?? ruleLabeler();
  const T = blockFor(model, o.data.train);
  const B = Math.min(o.batch ?? 16, o.data.train.length);
  const params = jointParameters(model, heads);
  const capture = [...new Set([...cands, ...headLayers, ...residuals.flatMap((r) => Array.from({ length: r.spec.layer + 1 }, (_, j) => j)), ...adapters.map((a) => a.spec.layer)])];
  const was = model.training;
  model.train();
  try {
    const f = await fit({
      ...o,
      terms: ["sft", "route", "vit", "depth", "sem", "transfer"],
      params,
      lossAt: (_s, lam, rng) => {
        const items = Array.from({ length: B }, () => o.data.train[rng.int(o.data.train.length)]!);
        const b = makeBatch(items, T);
        const N = B * T;
        const out = model.forwardWithHidden(b.idx, { capture });
        const teacher = clone(out.logits);
        const parts: Record<string, number> = {};
        const terms: Tensor[] = [];
        const on = (k: keyof typeof lam) => (lam[k] ?? 0) > 0;
        if (on("sft")) {
          const l = crossEntropy(out.logits, fromArray(b.targets, [B, T]));
          parts.sft = l.item();
          terms.push(scale(l, lam.sft!));
        }
        // the oracle, on detached states
        const finalTop = argmaxRows(teacher.f32(), N, V);
        const views: CandidateView[] = noGrad(() => cands.map((layer) => {
          const h = clone(out.hidden[layer]!);
          const tuned = (o.decode ?? "tuned") === "tuned" ? residuals.find((r) => r.spec.layer === layer) : undefined;
          const decoded = tuned
            ? model.logitLens(tuned.forward(Array.from({ length: layer + 1 }, (_, j) => reshapeRows(clone(out.hidden[j]!), N, C))))
            : model.logitLens(h);
          const stats = lensStats(decoded.f32(), teacher.f32(), N, V);
          return { layer, stats, norm: rowNorms(h.f32(), N, C), ...(normRef.has(layer) ? { normRef: normRef.get(layer)! } : {}) };
        }));
        const labels = headLayers.length ? labelTokens(views, finalTop, V, headLayers, cfg) : null;
        const inputAt = new Map<number, Tensor>();
        for (const l of headLayers) {
          const v = views.find((x) => x.layer === l)!;
          const st = statFeatures(v.stats, v.norm, normRef.get(l)!, V);
          inputAt.set(l, headInput(reshapeRows(out.hidden[l]!, N, C), fromArray(st, [N, STATS])));
        }
        for (const [kind, list] of [["route", routes], ["vit", vits]] as const) {
          if (!on(kind) || list.length === 0) continue;
          let acc: Tensor | null = null;
          for (const h of list) {
            const hl = labels!.heads.find((x) => x.layer === h.spec.layer)!;
            const y = kind === "route" ? hl.route : hl.vitality;
            const c = Float32Array.from(kind === "route" ? hl.routeConfidence : hl.vitalityConfidence, (v, i) => v * b.mask[i]!);
            const ce = weightedCrossEntropy(h.forward(inputAt.get(h.spec.layer)!), y, c);
            acc = acc ? add(acc, ce) : ce;
          }
          const m = scale(acc!, 1 / list.length);
          parts[kind] = m.item();
          terms.push(scale(m, lam[kind]!));
        }
        const count = b.mask.reduce((a, x) => a + x, 0);
        const maskT = fromArray(b.mask, [N]);
        if (on("depth") && residuals.length) {
          let acc: Tensor | null = null;
          for (const r of residuals) {
            const z = r.forward(Array.from({ length: r.spec.layer + 1 }, (_, j) => reshapeRows(out.hidden[j]!, N, C)));
            const kl = klDivergence(model.logitLens(z), fromArray(teacher.f32(), [N, V]), { reduction: "none" });
            const m = scale(sum(mul(kl, maskT)), 1 / count);
            acc = acc ? add(acc, m) : m;
          }
          const m = scale(acc!, 1 / residuals.length);
          parts.depth = m.item();
          terms.push(scale(m, lam.depth!));
        }
        if (on("sem") && sems.length) {
          const P = labeler.vocabulary.length;
          let acc: Tensor | null = null;
          for (const h of sems) {
            const y = new Float32Array(N * P);
            b.items.forEach((it, r) => {
              const l = labeler.label(it);
              const S = l.length / P;
              for (let s = 0; s < S; s++) {
                const pos = r * T + it.promptLen - 1 + s;
                if (pos < (r + 1) * T) y.set(l.subarray(s * P, (s + 1) * P), pos * P);
              }
            });
            const logits = h.forward(inputAt.get(h.spec.layer)!);
            const bce = bceWithLogits(logits, fromArray(y, [N, P]), { reduction: "none" });
            const w = new Float32Array(N * P);
            for (let i = 0; i < N; i++) if (b.mask[i]) w.fill(1, i * P, (i + 1) * P);
            const m = add(scale(sum(mul(bce, fromArray(w, [N, P]))), 1 / (count * P)), scale(mean(sigmoid(logits)), o.l1 ?? 0.01));
            acc = acc ? add(acc, m) : m;
          }
          const m = scale(acc!, 1 / sems.length);
          parts.sem = m.item();
          terms.push(scale(m, lam.sem!));
        }
        if (on("transfer") && adapters.length) {
          let acc: Tensor | null = null;
          for (const a of adapters) {
            const h = reshapeRows(out.hidden[a.spec.layer]!, N, C);
            const ctx = a.spec.context ? headContext(model, heads, a.spec.layer, clone(h)) : null;
            const { z, rms } = a.encode(h, ctx ? fromArray(ctx, [N, a.spec.context]) : null, { noise: rng });
            const p = transferLoss(model, a, h, a.decode(z, rms), z, teacher, b.valid, DEFAULT_TRANSFER_WEIGHTS);
            acc = acc ? add(acc, p.loss) : p.loss;
          }
          const m = scale(acc!, 1 / adapters.length);
          parts.transfer = m.item();
          terms.push(scale(m, lam.transfer!));
        }
        const loss = terms.reduce<Tensor | null>((a, t) => (a ? add(a, t) : t), null);
        return { loss, parts };
      },
    });
    return { fit: f, trained: params.reduce((n, [, t]) => n + t.size, 0) };
  } finally {
    model.train(was);
  }
}

function reshapeRows(h: Tensor, N: number, C: number): Tensor {
  return h.shape.length === 2 ? h : reshapeT(h, [N, C]);
}

/** Per held-out prompt: exact match per block per token (0 for a wrong answer). */
export function promptQualityPerCompute(r: Pick<ArchitectureReport, "per_prompt">, which: "routed" | "full" = "routed", L?: number): Float32Array {
  const p = r.per_prompt;
  return Float32Array.from(p.em_routed, (_, i) => {
    const em = which === "routed" ? p.em_routed[i]! : p.em_full[i]!;
    const blocksPerToken = which === "routed" ? p.layers[i]! / Math.max(1, p.tokens[i]!) : L!;
    return em / blocksPerToken;
  });
}

const meanOf = (x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length ? s / x.length : 0;
};

/** Quality per compute of a routed run: the mean over prompts of exact match per block per token. */
export const qualityPerCompute = (r: Pick<ArchitectureReport, "per_prompt">) => meanOf(promptQualityPerCompute(r));

export interface JointEvalOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  /** the routed measurement before the finetune */
  readonly before: ArchitectureReport;
  /** router thresholds (default: calibrated again on the training prompts) */
  readonly router?: RouterConfig;
  readonly maxError?: number;
  /** min quality_per_compute_gain (default 0: strictly better) */
  readonly threshold?: number | null;
  readonly rounds?: number;
  /** how far below full-depth exact match a policy may fall and still count (default 0.02) */
  readonly maxEmDrop?: number;
  /** seed of the bootstrap interval */
  readonly seed?: number;
  /**
   * When the router is calibrated here: the largest exact-match drop of routed vs full depth it
   * may show on training prompts (default half of maxEmDrop, a margin for held-out prompts; null:
   * thresholds from the token error rate alone)
   */
  readonly emBudget?: number | null;
}

/** The exact-match budget calibration uses when stage 6 calibrates a router: half the allowed drop. */
export const jointEmBudget = (maxEmDrop = 0.02): number => maxEmDrop / 2;

/**
 * Stage 6 gate: relative gain in quality per compute, after vs before, and against the best
 * fixed policy. A routed policy (before, after, or fixed) only counts when its exact match
 * stays within `maxEmDrop` of its own model's full depth: a ratio would otherwise favour
 * leaving every token at the first layer however wrong it is. (Each against its own model:
 * a finetune that also lifts full-depth exact match must not disqualify the weights before it.)
 * The gain's 95 % interval (paired bootstrap over prompts) is in `valueCi`.
 */
export function evaluateJoint(o: JointEvalOptions): GateReport & { readonly after: ArchitectureReport } {
  const drop = o.maxEmDrop ?? 0.02;
  const budget = o.emBudget === undefined ? jointEmBudget(drop) : o.emBudget;
  const cal = o.router ? null : calibrateRouter(o.model, o.heads, o.data.train, { ...(o.maxError !== undefined ? { maxError: o.maxError } : {}), ...(budget !== null ? { emBudget: budget } : {}) });
  const router = o.router ?? cal!.router;
  const after = measureRouted(o.model, o.heads, o.data.heldOut, { router, rounds: o.rounds ?? 1 });
  const L = dimsOf(o.model).layers;
  const floor = after.em_full - drop;
  const floorBefore = o.before.em_full - drop;
  const counted = (em: number, q: number, f = floor) => (em >= f ? q : 0);
  const fullQ = promptQualityPerCompute(after, "full", L);
  const fixed: Record<string, { em: number; qpc: number; values: Float32Array }> = { "full depth": { em: after.em_full, qpc: counted(after.em_full, meanOf(fullQ)), values: fullQ } };
  for (const h of headsOf(o.heads, "route").map((x) => x.spec.layer)) {
    const r = measureRouted(o.model, o.heads, o.data.heldOut, { router: { thresholds: { [String(h)]: 0 }, residual: router.residual ?? true }, rounds: 1 });
    const q = promptQualityPerCompute(r);
    fixed[`every token exits at ${h}`] = { em: r.em_routed, qpc: counted(r.em_routed, meanOf(q)), values: q };
  }
  const [bestName, best] = Object.entries(fixed).sort((a, b) => b[1].qpc - a[1].qpc)[0]!;
  const qb = promptQualityPerCompute(o.before);
  const qa = promptQualityPerCompute(after);
  const qBefore = counted(o.before.em_routed, meanOf(qb), floorBefore);
  const qAfter = counted(after.em_routed, meanOf(qa));
  const relative = (a: number, b: number) => (b > 0 ? (a - b) / b : a > 0 ? Infinity : 0);
  const valueCi = qb.length === qa.length
    ? bootstrapStat(qa.length, (idx) => {
        let sa = 0;
        let sb = 0;
        for (const i of idx) { sa += qa[i]!; sb += qb[i]!; }
        return relative(sa, sb);
      }, { seed: o.seed ?? 0 })
    : ([Number.NaN, Number.NaN] as const);
  const { per_prompt: _a, ...afterSlim } = after;
  const { per_prompt: _b, ...beforeSlim } = o.before;
  const report = gateReport({
    stage: 6,
    metric: "quality_per_compute_gain",
    value: relative(qAfter, qBefore),
    direction: "higher",
    threshold: o.threshold === undefined ? 0 : o.threshold,
    score: { name: "quality per compute after", value: qAfter },
    named: { name: "before the joint finetune", value: qBefore },
    trivial: { name: `best fixed policy (${bestName})`, value: best.qpc },
    extraChecks: [{ name: "routed exact match within the allowed drop of full depth", ok: after.em_routed >= floor, why: `routed exact match ${after.em_routed.toFixed(3)} fell below the floor ${floor.toFixed(3)} (full depth − ${drop})` }],
    details: {
      before: beforeSlim, after: afterSlim, ...(cal?.em ? { router_calibration: cal.em } : {}), em_floor: floor, em_floor_before: floorBefore, gain_ci: valueCi,
      fixed_policies: Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k, { em: v.em, qpc: v.qpc }])),
      easy_latency_gain: o.before.tokens_per_s_routed > 0 ? (after.tokens_per_s_routed - o.before.tokens_per_s_routed) / o.before.tokens_per_s_routed : null,
    },
  });
  return {
    ...report,
    valueCi: [valueCi[0], valueCi[1]],
    items: {
      measure: "quality per compute per held-out prompt: routed exact match / blocks per token",
      kind: "values",
      direction: "higher",
      score: { name: "after the joint finetune", values: qa },
      named: { name: "before it (the stage-5 weights)", values: qb },
      trivial: [{ name: `best fixed policy (${bestName})`, values: best.values, detail: Object.keys(fixed).join(", ") }],
    },
    after,
  };
}

export interface JointRunResult {
  readonly fit: FitResult;
  readonly report: GateReport;
  readonly before: ArchitectureReport;
  readonly after: ArchitectureReport;
  readonly rolledBack: boolean;
}

/** Measure, finetune, judge; a failed gate puts the stage-5 weights back and says so. */
export async function runJointStage(o: JointStageOptions & { router: RouterConfig; threshold?: number | null; rounds?: number; maxError?: number; emBudget?: number | null }): Promise<JointRunResult> {
  const params = jointParameters(o.model, o.heads);
  const snap = snapshotParams(params);
  // both sides' routers are calibrated alike: with an exact-match budget (the default) the
  // weights before are calibrated on answers as evaluateJoint does after; `router` is used as
  // given only with emBudget null
  const budget = o.emBudget === undefined ? jointEmBudget() : o.emBudget;
  const beforeRouter = budget === null ? o.router : calibrateRouter(o.model, o.heads, o.data.train, { ...(o.maxError !== undefined ? { maxError: o.maxError } : {}), emBudget: budget }).router;
  const before = measureRouted(o.model, o.heads, o.data.heldOut, { router: beforeRouter, rounds: o.rounds ?? 1 });
  const trained = await trainJoint(o);
  const report = evaluateJoint({ model: o.model, data: o.data, heads: o.heads, before, emBudget: budget, ...(o.threshold !== undefined ? { threshold: o.threshold } : {}), ...(o.rounds ? { rounds: o.rounds } : {}), ...(o.maxError !== undefined ? { maxError: o.maxError } : {}) });
  if (!report.passed) restoreParams(params, snap);
  return { fit: trained.fit, report, before, after: report.after, rolledBack: !report.passed };
}
