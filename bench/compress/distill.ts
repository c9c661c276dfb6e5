// `troupe bench distill`: a student of half the width (64 channels, same depth) trained from
// scratch on tinyshakespeare twice in one run, the same steps, data order and seed: once on
// hard labels alone, once distilled from the f32 teacher (bench/compress/base.ts) with the
// fused KD loss. Held-out loss (validation CE) decides.
import * as M from "../../models/mod.js";
import { type BaseOptions, shakespeareBase } from "./base.js";

export interface DistillBenchOptions extends BaseOptions {
  readonly studentSteps?: number;
  readonly temperature?: number;
  readonly alpha?: number;
  /** Only the teacher's k largest logits per position (default: all 256). */
  readonly topK?: number;
}

export async function runDistillBench(o: DistillBenchOptions = {}) {
  const say = o.say ?? (() => undefined);
  const t0 = performance.now();
  const base = await shakespeareBase(o);
  const teacher = base.model;
  const steps = o.studentSteps ?? 600;
  const cfg = { ...teacher.config, nEmbd: teacher.config.nEmbd / 2 };
  const T = o.temperature ?? 1, alpha = o.alpha ?? 0.5;
  const common = { corpus: base.corpus, steps, lr: 2e-3, warmupSteps: 30, minLr: 2e-4, seed: 1 };
  say(`[bench] distill: student ${cfg.nEmbd} channels, hard labels (${steps} steps) ...`);
  const hard = M.createGpt(cfg, 11);
  const h = await M.trainCompressed({ ...common, model: hard });
  say(`[bench] distill: the same student distilled (T ${T}, alpha ${alpha}${o.topK ? `, top-${o.topK}` : ""}) ...`);
  const kd = M.createGpt(cfg, 11);
  const k = await M.trainCompressed({ ...common, model: kd, distill: { teachers: [teacher], temperature: T, alpha, ...(o.topK ? { topK: o.topK } : {}) } });
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    teacher_val_loss: r4(M.validationLoss(teacher, base.corpus)),
    hard_labels_val_loss: r4(h.valLoss),
    distilled_val_loss: r4(k.valLoss),
    kd_beats_hard_labels: k.valLoss < h.valLoss,
    gain: r4(h.valLoss - k.valLoss),
    settings: { student: cfg, teacher: teacher.config, steps, temperature: T, alpha, top_k: o.topK ?? null, lr: 2e-3, seed: 1, student_init_seed: 11 },
    wall_s: Math.round((performance.now() - t0) / 100) / 10,
  };
}
