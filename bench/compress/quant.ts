// `troupe bench quant`: validation loss of the tinyshakespeare model (bench/compress/base.ts)
// at each precision, in one run, all from the same f32 checkpoint:
//   f32      the checkpoint
//   ptq8     Q8_0 post-training (ggml's absmax per block of 32 is its calibration), as exported
//   ptq4     Q4_0 post-training, as exported (embeddings Q8_0)
//   qat4     fine-tuned with Q4_0 fake-quant and the STE, then exported to Q4_0
//   ternary  BitNet b1.58 QAT (ternary weights, 8-bit per-token activations), evaluated as trained
// plus f32_finetuned, the checkpoint trained the same extra steps without quantisation: the
// control that says how much of qat4's number is the extra training rather than QAT.
import * as M from "../../models/mod.js";
import { type BaseOptions, shakespeareBase } from "./base.js";

export interface QuantBenchOptions extends BaseOptions {
  /** Fine-tuning steps of qat4 and f32_finetuned (default 300). */
  readonly qatSteps?: number;
  /** Steps of ternary QAT (default 600). */
  readonly ternarySteps?: number;
}

export async function runQuantBench(o: QuantBenchOptions = {}) {
  const say = o.say ?? (() => undefined);
  const t0 = performance.now();
  const base = await shakespeareBase(o);
  const { corpus } = base;
  const qatSteps = o.qatSteps ?? 300, ternarySteps = o.ternarySteps ?? 600;
  const val = (m: M.GPT) => M.validationLoss(m, corpus);
  say("[bench] quant: f32, ptq8, ptq4 ...");
  const f32 = val(base.model);
  const ptq8 = val(M.dequantizedCopy(base.model, "q8_0"));
  const ptq4 = val(M.dequantizedCopy(base.model, "q4_0"));
  say(`[bench] quant: qat4 (${qatSteps} steps) ...`);
  const q = M.copyGpt(base.model);
  const { clock } = M.applyQat(q, { format: "q4_0" });
  const qat = await M.trainCompressed({ model: q, corpus, steps: qatSteps, lr: 3e-4, warmupSteps: 20, minLr: 3e-5, qatClock: clock });
  M.removeQat(q);
  const qat4 = val(M.dequantizedCopy(q, "q4_0"));
  say(`[bench] quant: f32 fine-tuned the same ${qatSteps} steps (control) ...`);
  const ft = M.copyGpt(base.model);
  await M.trainCompressed({ model: ft, corpus, steps: qatSteps, lr: 3e-4, warmupSteps: 20, minLr: 3e-5 });
  const f32Finetuned = val(ft);
  say(`[bench] quant: ternary QAT (${ternarySteps} steps) ...`);
  const t = M.copyGpt(base.model);
  const tc = M.applyQat(t, { format: "ternary" });
  const losses: number[] = [];
  const tern = await M.trainCompressed({ model: t, corpus, steps: ternarySteps, lr: 1e-3, warmupSteps: 30, minLr: 1e-4, qatClock: tc.clock, onProgress: (p) => losses.push(p.loss) });
  const first = losses.slice(0, 10), last = losses.slice(-10);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    f32: r4(f32), ptq8: r4(ptq8), ptq4: r4(ptq4), qat4: r4(qat4), ternary: r4(tern.valLoss),
    f32_finetuned: r4(f32Finetuned),
    relative: { ptq8: r4(ptq8 / f32 - 1), ptq4: r4(ptq4 / f32 - 1), qat4: r4(qat4 / f32 - 1), ternary: r4(tern.valLoss / f32 - 1) },
    targets: {
      ptq8_within_1pct: ptq8 <= f32 * 1.01,
      ptq4_within_5pct: ptq4 <= f32 * 1.05,
      qat4_within_3pct: qat4 <= f32 * 1.03,
      qat4_below_ptq4: qat4 < ptq4,
      ternary_no_divergence: losses.every(Number.isFinite) && mean(last) < mean(first),
    },
    ternary_train_loss: { first10: r4(mean(first)), last10: r4(mean(last)) },
    settings: {
      base_steps: base.steps, base_cached: base.cached, qat_steps: qatSteps, qat_lr: 3e-4, ternary_steps: ternarySteps, ternary_lr: 1e-3,
      val_tokens: corpus.val.length, model: base.model.config, qat_train_loss: r4(qat.trainLoss),
    },
    wall_s: Math.round((performance.now() - t0) / 100) / 10,
  };
}
