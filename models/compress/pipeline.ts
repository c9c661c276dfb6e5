// The compression pipeline: distil → prune → quantise → fine-tune → export, one step after the
// other on one model, each followed by a gate — the held-out loss may not rise more than
// `maxIncrease` (relative) above the f32 teacher's — and a report row: the bytes the model
// would take exported now, its validation loss, and its evaluation speed. A failed gate stops
// the pipeline (the report says where and why); nothing after it runs.
// Sizes: a dense f32 model is 4 bytes per parameter (magnitude-pruned zeros included: they are
// stored); pruned MLP channels are dropped from the config; after a quantise step the bytes are
// those of the GGUF the model would be written as; the export step reports the file's size.
import { writeFileSync } from "node:fs";
import type { TextCorpus } from "../../data/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";
import { createGpt } from "../gpt.js";
import { attachTokenizer, tokenizerOf } from "../spec.js";
import { type ExportType, dequantizedCopy, modelToGguf as gptToGguf } from "./gguf.js";
import { type Masks, dropPrunedChannels, structuredMasks } from "./prune.js";
import { type QatClock, type QatConfig, applyQat, removeQat } from "./qat.js";
import { type DistillConfig, copyGpt, trainCompressed, validationLoss } from "./steps.js";

interface Training {
  readonly steps: number;
  readonly lr?: number;
  /** Learn from the teacher (KD) rather than hard labels alone (default true). */
  readonly distill?: boolean;
  readonly temperature?: number;
  readonly alpha?: number;
  readonly topK?: number;
}

export type PipelineStep =
  | ({ readonly kind: "distill"; readonly student?: { readonly nEmbd?: number; readonly nLayer?: number; readonly nHead?: number; readonly seed?: number } } & Training)
  | ({ readonly kind: "prune"; readonly prune: "channels" | "heads" | "magnitude"; readonly sparsity: number } & Training)
  | ({ readonly kind: "quantize"; readonly method: "qat" | "ptq"; readonly format: "q8_0" | "q4_0" } & Partial<Training>)
  | ({ readonly kind: "finetune" } & Training)
  | { readonly kind: "export"; readonly type: ExportType; readonly path: string };

export interface PipelineOptions {
  readonly teacher: CausalLM;
  readonly corpus: TextCorpus;
  readonly steps: readonly PipelineStep[];
  /** Largest relative rise of the validation loss over the teacher's a step may leave (default 0.05). */
  readonly maxIncrease?: number;
  /** Validation batches per gate (default: all). */
  readonly valBatches?: number;
  readonly seed?: number;
  readonly say?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface StepReport {
  readonly step: string;
  readonly bytes: number;
  readonly val_loss: number;
  readonly val_loss_increase: number;
  readonly passed: boolean;
  readonly parameters: number;
  readonly eval_tokens_per_s: number;
  readonly train_s: number;
  readonly detail: Record<string, unknown>;
}

export interface PipelineReport {
  readonly teacher: { readonly bytes: number; readonly val_loss: number; readonly parameters: number };
  readonly steps: StepReport[];
  readonly compression: number;
  readonly val_loss_increase: number;
  readonly passed: boolean;
  readonly stopped_at: string | null;
  readonly exported: string | null;
}

type QatState = { config: QatConfig; clock: QatClock; format: ExportType } | null;

const paramsOf = (m: CausalLM) => m.namedParameters().reduce((a, [, p]) => a + p.size, 0);

export async function runPipeline(o: PipelineOptions): Promise<PipelineReport> {
  const say = o.say ?? (() => undefined);
  const maxInc = o.maxIncrease ?? 0.05;
  const { teacher, corpus } = o;
  teacher.eval();
  const val = (m: CausalLM) => validationLoss(m, corpus, o.valBatches);
  const teacherLoss = val(teacher);
  const teacherBytes = gptToGguf(teacher, { type: "f32" }).bytes.length;
  let model = copyGpt(teacher);
  let masks: Masks | null = null;
  let qat = null as QatState;
  let format: ExportType = "f32";
  let exported: string | null = null;
  const rows: StepReport[] = [];
  const kd = (t: Partial<Training>): DistillConfig | undefined =>
    t.distill === false ? undefined : { teachers: [teacher], temperature: t.temperature ?? 2, alpha: t.alpha ?? 0.5, ...(t.topK ? { topK: t.topK } : {}) };
  const fit = async (t: Training, extra: { prune?: Parameters<typeof trainCompressed>[0]["prune"] } = {}) => {
    const r = await trainCompressed({
      model, corpus, steps: t.steps, lr: t.lr ?? 5e-4, seed: (o.seed ?? 1) + rows.length,
      ...(kd(t) ? { distill: kd(t)! } : {}), ...(masks ? { masks } : {}), ...(qat ? { qatClock: qat.clock } : {}), ...extra,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (r.masks) masks = r.masks;
    return r;
  };
  for (const [i, s] of o.steps.entries()) {
    const name = `${i + 1}:${s.kind}`;
    say(`[compress] step ${name} ...`);
    const t0 = performance.now();
    const detail: Record<string, unknown> = {};
    if (s.kind === "distill") {
      if (s.student) {
        if (teacher.arch !== "gpt2") throw new ModelConfigError(`steps[${i}].student`, `a fresh student is a GPT (n_embd, n_layer, n_head); this teacher is ${teacher.arch}: distil into a copy of it (no student) instead`);
        const c = { ...(teacher as unknown as { config: Record<string, unknown> }).config, ...s.student, mlpHidden: undefined };
        delete (c as { seed?: number }).seed;
        const student = createGpt(c, s.student.seed ?? 1);
        model = attachTokenizer(student, tokenizerOf(teacher));
        detail.student = student.config;
      }
      const r = await fit(s);
      detail.top_k = r.topK;
    } else if (s.kind === "prune") {
      if (!(s.sparsity > 0 && s.sparsity < 1)) throw new ModelConfigError(`steps[${i}].sparsity`, `expected a number in (0, 1), got ${s.sparsity}`);
      const ramp = Math.max(1, Math.floor(s.steps * 0.6));
      await fit(s, { prune: { kind: s.prune, schedule: { final: s.sparsity, begin: 0, end: ramp }, every: Math.max(1, Math.floor(ramp / 10)) } });
      if (s.prune === "channels") {
        const { plan } = structuredMasks(model, { channelSparsity: s.sparsity });
        const wasQat = qat as QatState;
        if (wasQat) removeQat(model);
        model = dropPrunedChannels(model, plan);
        masks = null;
        if (wasQat) qat = { config: wasQat.config, format: wasQat.format, clock: applyQat(model, wasQat.config).clock };
        detail.mlp_hidden = (model.namedParameters().find(([n]) => /(\.fc|mlp\.up_proj)\.weight$/.test(n))?.[1].shape[0]) ?? null;
      }
      detail.sparsity = s.sparsity;
    } else if (s.kind === "quantize") {
      format = s.format;
      if (s.method === "qat") {
        const config: QatConfig = { format: s.format };
        qat = { config, clock: applyQat(model, config).clock, format: s.format };
        await fit({ steps: s.steps ?? 300, ...s } as Training);
      }
      detail.method = s.method;
      detail.format = s.format;
    } else if (s.kind === "finetune") {
      await fit(s);
    } else {
      if (qat) removeQat(model);
      qat = null;
      format = s.type;
      const g = gptToGguf(model, { type: s.type });
      writeFileSync(s.path, g.bytes);
      exported = s.path;
      detail.path = s.path;
      detail.type = s.type;
    }
    const trainS = (performance.now() - t0) / 1000;
    // measure the model as it would be exported now
    const plain = qat ? copyGpt(model) : model; // a plain GPT holding the latent weights
    const measured = format === "f32" ? plain : dequantizedCopy(plain, format);
    const e0 = performance.now();
    const loss = val(measured);
    const evalS = (performance.now() - e0) / 1000;
    const bytes = s.kind === "export" ? gptToGguf(plain, { type: format }).bytes.length : format === "f32" ? 4 * paramsOf(plain) : gptToGguf(plain, { type: format }).bytes.length;
    const inc = loss / teacherLoss - 1;
    const passed = inc <= maxInc;
    const tokens = Math.min(corpus.val.length, (o.valBatches ?? Infinity) * 16 * model.dims.maxPositions);
    rows.push({
      step: s.kind, bytes, val_loss: round(loss), val_loss_increase: round(inc), passed, parameters: paramsOf(plain),
      eval_tokens_per_s: Math.round(tokens / evalS), train_s: round(trainS, 1), detail,
    });
    say(`[compress] ${name}: ${bytes} bytes, val loss ${loss.toFixed(4)} (${(inc * 100).toFixed(2)}% over the teacher) ${passed ? "passed" : "FAILED"}`);
    if (!passed) break;
  }
  const last = rows[rows.length - 1]!;
  const stopped = rows.find((r) => !r.passed);
  return {
    teacher: { bytes: teacherBytes, val_loss: round(teacherLoss), parameters: paramsOf(teacher) },
    steps: rows,
    compression: round(teacherBytes / last.bytes, 3),
    val_loss_increase: last.val_loss_increase,
    passed: !stopped && rows.length === o.steps.length,
    stopped_at: stopped ? stopped.step : null,
    exported,
  };
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
