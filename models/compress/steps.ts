// Training with a compression objective on a text corpus: the loop of models/training with
// the fused distillation loss from one or several frozen teachers (dense, or only their top-k
// logits per position), schedules for the temperature and alpha, pruning masks re-applied after
// every optimizer step (and raised on a cubic schedule), and the QAT clock advanced per step.
// Legend: B batch, T time, V vocab.
import { type TextCorpus, createWindowSampler, evalWindows } from "../../data/mod.js";
import { type Tensor, averageTeachers, clone, serializeSafetensors, crossEntropy, distillationLoss, distillationLossTopK, noGrad, topK } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import { type CausalLM, configOf, createModel } from "../arch/mod.js";
import { attachTokenizer, specOf, tokenizerOf } from "../spec.js";
import { evalLoss, train } from "../training/mod.js";
import type { StepRecord, TrainProgress } from "../training/mod.js";
import { type CubicSchedule, type Masks, applyMasks, cubicSparsity, magnitudeMasks, structuredMasks } from "./prune.js";
import type { QatClock } from "./qat.js";

/** A value constant over training, or linear from `from` to `to`. */
export type Scheduled = number | { readonly from: number; readonly to: number };

export function scheduled(v: Scheduled, step: number, total: number): number {
  if (typeof v === "number") return v;
  const f = total > 0 ? Math.min(1, step / total) : 1;
  return v.from + (v.to - v.from) * f;
}

export interface DistillConfig {
  readonly teachers: readonly CausalLM[];
  /** Softmax temperature (default 2). */
  readonly temperature?: Scheduled;
  /** Weight of the KL term (default 0.5). */
  readonly alpha?: Scheduled;
  /** Keep only the teachers' k largest logits per position (default: all V). */
  readonly topK?: number;
  /** Mixing weights of the teachers (default equal). */
  readonly weights?: readonly number[];
}

export interface PruneConfig {
  readonly kind: "magnitude" | "channels" | "heads";
  readonly schedule: CubicSchedule;
  /** How often (steps) the masks are recomputed while the sparsity ramps (default 10). */
  readonly every?: number;
}

export interface CompressTrainOptions {
  readonly model: CausalLM;
  readonly corpus: TextCorpus;
  readonly steps: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly warmupSteps?: number;
  readonly minLr?: number;
  readonly seed?: number;
  readonly distill?: DistillConfig;
  readonly prune?: PruneConfig;
  /** Fixed masks to keep (from an earlier pruning step). */
  readonly masks?: Masks;
  readonly qatClock?: QatClock;
  /** Validation batches for the final loss (default: every validation window). */
  readonly valBatches?: number;
  readonly onProgress?: (p: TrainProgress) => void;
  readonly signal?: AbortSignal;
}

export interface CompressTrainResult {
  readonly valLoss: number;
  readonly trainLoss: number;
  readonly steps: number;
  readonly masks: Masks | null;
  readonly wallMs: number;
  readonly topK: number | null;
}

function masksFor(model: CausalLM, p: PruneConfig, sparsity: number): Masks {
  if (p.kind === "magnitude") return magnitudeMasks(model, sparsity);
  return structuredMasks(model, p.kind === "channels" ? { channelSparsity: sparsity } : { headSparsity: sparsity }).masks;
}

/** Trains `model` in place with the configured objective; returns its validation loss (CE, nats/token). */
export async function trainCompressed(o: CompressTrainOptions): Promise<CompressTrainResult> {
  const { model, corpus } = o;
  const batch = o.batch ?? 16;
  const block = model.dims.maxPositions;
  const V = model.dims.vocabSize;
  const d = o.distill;
  if (d) {
    if (d.teachers.length === 0) throw new ModelConfigError("distill.teachers", "expected at least one teacher");
    for (const t of d.teachers) {
      if (t.dims.vocabSize !== V || t.dims.maxPositions < block) {
        throw new ModelConfigError("distill.teachers", `a teacher (vocab ${t.dims.vocabSize}, block ${t.dims.maxPositions}) cannot teach this student (vocab ${V}, block ${block})`);
      }
      t.eval();
    }
    if (d.topK !== undefined && !(Number.isInteger(d.topK) && d.topK >= 1 && d.topK <= V)) {
      throw new ModelConfigError("distill.topK", `expected an integer in [1, ${V}], got ${d.topK}`);
    }
  }
  let step = 0;
  let masks: Masks | null = o.masks ?? null;
  if (masks) applyMasks(model, masks);
  const clock = o.qatClock;
  if (clock) clock.totalSteps = o.steps;
  const loss = (m: CausalLM, idx: Tensor, targets: Tensor): Tensor => {
    if (!d) return crossEntropy(m.forward(idx), targets);
    const T = scheduled(d.temperature ?? 2, step, o.steps);
    const alpha = scheduled(d.alpha ?? 0.5, step, o.steps);
    const teacher = noGrad(() => {
      const zs = d.teachers.map((t) => t.forward(idx));
      return zs.length === 1 ? zs[0]! : averageTeachers(zs, T, d.weights);
    });
    const s = m.forward(idx);
    if (d.topK !== undefined && d.topK < V) return distillationLossTopK(s, noGrad(() => topK(teacher, d.topK!)), targets, { temperature: T, alpha });
    return distillationLoss(s, teacher, targets, { temperature: T, alpha });
  };
  const onStep = (r: StepRecord) => {
    step = r.step;
    if (clock) clock.step = step;
    const p = o.prune;
    if (p && step <= p.schedule.end && (step % (p.every ?? 10) === 0 || step === p.schedule.end)) masks = masksFor(model, p, cubicSparsity(step, p.schedule));
    if (masks) applyMasks(model, masks);
  };
  const sampler = createWindowSampler(corpus.train, { batch, block, seed: o.seed ?? 1337 });
  const val = evalWindows(corpus.val, { batch, block });
  const r = await train({
    model, batches: sampler, steps: o.steps, loss,
    lr: o.lr ?? 1e-3, warmupSteps: o.warmupSteps ?? Math.min(50, Math.floor(o.steps / 10)), minLr: o.minLr ?? (o.lr ?? 1e-3) / 10,
    onStep, ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
  });
  model.eval();
  const valLoss = evalLoss(model, o.valBatches ? val.slice(0, o.valBatches) : val);
  return { valLoss, trainLoss: r.trainLoss, steps: r.steps, masks, wallMs: r.wallMs, topK: d?.topK ?? null };
}

/** A copy of a plain model of any architecture (same config, cloned weights, same tokenizer), in eval mode. */
export function copyGpt<M extends CausalLM>(model: M): M {
  const m = createModel(model.arch, configOf(model)) as M;
  m.loadStateDict(new Map(model.namedParameters().map(([n, p]) => [n, clone(p)])));
  m.eval();
  return attachTokenizer(m, tokenizerOf(model));
}

/**
 * A fresh student of the teacher's architecture with `width` channels (default half the
 * teacher's) and `layers` blocks (default the teacher's); a Llama's MLP and heads scale with it.
 */
export function freshStudent(teacher: CausalLM, o: { width?: number; layers?: number; seed?: number } = {}): CausalLM {
  const c = configOf(teacher);
  const width = o.width ?? teacher.dims.hidden / 2;
  const layers = o.layers ?? teacher.dims.layers;
  if (teacher.arch === "llama") {
    const { headDim: _h, ...rest } = c;
    const inter = Math.max(1, Math.round(((c.intermediateSize as number) * width) / teacher.dims.hidden));
    return createModel("llama", { ...rest, hiddenSize: width, intermediateSize: inter, numLayers: layers }, o.seed ?? 1);
  }
  return createModel(teacher.arch, { ...c, nEmbd: width, nLayer: layers, mlpHidden: undefined }, o.seed ?? 1);
}

/** CE on the validation split (nats/token), eval mode. */
export function validationLoss(model: CausalLM, corpus: TextCorpus, batches?: number, batch = 16): number {
  const val = evalWindows(corpus.val, { batch, block: model.dims.maxPositions });
  return evalLoss(model, batches ? val.slice(0, batches) : val);
}

/** Writes a plain model as a model.safetensors that loadModelFile reads (the spec in its metadata). */
export function serializeModelFile(model: CausalLM, metadata: Record<string, string> = {}): Uint8Array {
  const spec = { ...specOf(model), lora: null };
  return serializeSafetensors(model.namedParameters(), { ...metadata, troupe_config: JSON.stringify({ model: spec }) });
}
