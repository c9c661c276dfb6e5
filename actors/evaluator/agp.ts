// The evaluator's answer to a head stage's gate question (stages 2-6): the models layer's stage
// evaluation on the eval lane with the weights the stage's training left, the oracle's labels
// where the stage has them (the label stream), and every per-item vector behind the verdict, so
// the director can measure the score against its named and trivial baselines with intervals.
//   2  route heads vs entropy-only routing and the majority class (oracle labels, train and held out)
//   3  the depth residuals on the router's path (router calibrated on the training lane), and
//      what routing bought: routed vs full-depth decoding of the held-out prompts
//   4  the semantic projection's stability and its gain, by interval, over heads without it
//   5  the constant-state baseline per split (the codecs are measured by the transfer actors)
//   6  quality per compute after the joint finetune vs before it (each with its own router)
// Legend: K vectors, N items.
import { availableParallelism } from "node:os";
import { configureKernels } from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { wireTensor } from "../../protocol/mod.js";
import { type AgpGateAnswer, type LoadedWeights, type RunSpec, type Weights, collectLabels, loadLane, withoutPrompts } from "../cast/mod.js";

export interface AgpGateInput {
  readonly stage: number;
  readonly threshold?: number | undefined;
  readonly lane: string;
  readonly evalLane: string;
  readonly weights: Weights;
  readonly before?: Weights | undefined;
  readonly settings: AgpGateSettings;
}

/** What the director passes per stage (plain JSON). */
export interface AgpGateSettings {
  readonly candidates?: readonly number[];
  readonly oracle?: { readonly klMax: number; readonly top1: boolean; readonly rule: "stable" | "first" };
  /** the label stream's batches of the training lane and of the eval lane (stages 2 and 4) */
  readonly labels?: { readonly stage: number; readonly train: { lane: string; batches: number }; readonly heldOut: { lane: string; batches: number } } | null;
  /** router calibration: the error budget of a token let go early (stages 3 and 6) */
  readonly maxError?: number;
  readonly rounds?: number;
  readonly repeats?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly converged?: boolean;
  readonly splitLayers?: readonly number[];
  readonly batch?: number;
}

export interface AgpDeps {
  readonly spec: RunSpec;
  readonly nc: import("../../hosts/mod.js").NatsConnection;
  readonly weights: (w: Weights) => Promise<LoadedWeights>;
  /** threads to go back to after the question (the evaluator's own, while training goes on) */
  readonly threads: number;
}

/** What a per-item vector set is, without the vectors (they travel as one tensor). */
export interface ItemsMeta {
  readonly measure: string;
  readonly kind: "hits" | "values";
  readonly direction: "higher" | "lower";
  /** row names: score, named, then each trivial baseline */
  readonly rows: readonly { readonly name: string; readonly detail?: string }[];
}

function answer(r: M.GateReport | Record<string, unknown>, vectors: readonly Float32Array[] | null): Omit<AgpGateAnswer, "cached"> {
  const { items, ...rest } = r as M.GateReport;
  const meta: ItemsMeta | null = items
    ? { measure: items.measure, kind: items.kind, direction: items.direction, rows: [items.score as { name: string; detail?: string }, items.named, ...items.trivial].map((x) => ({ name: x.name, ...(x.detail ? { detail: x.detail } : {}) })) }
    : null;
  const report = JSON.parse(JSON.stringify({ ...rest, ...(meta ? { items_meta: meta } : {}) })) as unknown;
  if (!vectors || vectors.length === 0) return { report };
  const N = vectors[0]!.length;
  const flat = new Float32Array(vectors.length * N);
  vectors.forEach((v, k) => flat.set(v, k * N));
  return { report, items: wireTensor("f32", [vectors.length, N], flat) };
}

const vectorsOf = (g: M.GateReport): Float32Array[] | null => (g.items ? [g.items.score.values, g.items.named.values, ...g.items.trivial.map((t) => t.values)] : null);

async function data(deps: AgpDeps, q: AgpGateInput): Promise<M.AgpData> {
  const held = (await loadLane(deps.spec, q.evalLane)).items;
  const train = withoutPrompts((await loadLane(deps.spec, q.lane)).items, held).items;
  return { train, heldOut: held };
}

async function labelsOf(deps: AgpDeps, s: AgpGateSettings) {
  if (!s.labels) return undefined;
  const train = await collectLabels(deps.nc, deps.spec.runId, s.labels.stage, s.labels.train.lane, s.labels.train.batches);
  const heldOut = await collectLabels(deps.nc, deps.spec.runId, s.labels.stage, s.labels.heldOut.lane, s.labels.heldOut.batches);
  return { train: train.labels, heldOut: heldOut.labels };
}

/** One head stage's gate measurement, using every core while it runs. */
export async function answerAgpGate(deps: AgpDeps, q: AgpGateInput): Promise<Omit<AgpGateAnswer, "cached">> {
  configureKernels({ threads: availableParallelism() });
  try {
    return await measure(deps, q);
  } finally {
    configureKernels({ threads: deps.threads });
  }
}

async function measure(deps: AgpDeps, q: AgpGateInput): Promise<Omit<AgpGateAnswer, "cached">> {
  const s = q.settings;
  const d = await data(deps, q);
  const { model, heads } = await deps.weights(q.weights);
  const threshold = q.threshold ?? null;
  switch (q.stage) {
    case 2: {
      const g = M.evaluateRouteVitality({ model, data: d, heads, candidates: s.candidates ?? [], ...(s.oracle ? { oracle: s.oracle } : {}), threshold, labels: await labelsOf(deps, s) ?? {} });
      return answer(g, vectorsOf(g));
    }
    case 3: {
      const cal = M.calibrateRouter(model, heads, d.train, { maxError: s.maxError ?? 0.01 });
      const g = M.evaluateDepthResiduals({ model, data: d, heads, router: cal.router, threshold });
      const architecture = M.measureRouted(model, heads, d.heldOut, { router: cal.router, rounds: s.rounds ?? 3 });
      return answer({ ...g, details: { ...g.details, calibration: cal.points, architecture } }, vectorsOf(g));
    }
    case 4: {
      const g = await M.evaluateSemantic({
        model, data: d, heads, threshold, steps: s.steps ?? 200, ...(s.lr !== undefined ? { lr: s.lr } : {}), repeats: s.repeats ?? 3,
        ...(s.converged !== undefined ? { converged: s.converged } : {}), ...(s.oracle ? { oracle: s.oracle } : {}),
        ...(s.candidates ? { candidates: s.candidates } : {}), labels: await labelsOf(deps, s) ?? {},
      });
      return answer(g, vectorsOf(g));
    }
    case 5: {
      const layers = s.splitLayers ?? [];
      const constant = layers.map((l) => M.withFrozenSync(model, () => M.constantStateKl(model, d, l, s.batch ?? 32)));
      return answer({ constant_state_kl: Object.fromEntries(layers.map((l, i) => [String(l), constant[i]!.reduce((a, b) => a + b, 0) / Math.max(1, constant[i]!.length)])), layers }, constant);
    }
    case 6: {
      if (!q.before) throw new Error("the stage-6 gate question needs the weights before the joint finetune");
      const b = await deps.weights(q.before);
      // both sides' routers are calibrated alike: token error, then exact match on training prompts
      const beforeCal = M.calibrateRouter(b.model, b.heads, d.train, { maxError: s.maxError ?? 0.01, emBudget: M.jointEmBudget() });
      const beforeRouter = beforeCal.router;
      const before = M.measureRouted(b.model, b.heads, d.heldOut, { router: beforeRouter, rounds: s.rounds ?? 3 });
      const g = M.evaluateJoint({ model, data: d, heads, before, threshold, rounds: s.rounds ?? 3, maxError: s.maxError ?? 0.01 });
      const { per_prompt: _p, ...after } = g.after;
      const { after: _a, ...rest } = g;
      return answer({ ...rest, details: { ...g.details, before_thresholds: beforeRouter.thresholds, ...(beforeCal.em ? { before_router_calibration: beforeCal.em } : {}), after_full: after } }, vectorsOf(g));
    }
    default:
      throw new Error(`stage ${q.stage} has no head-stage gate`);
  }
}
