// Language-model training on a text corpus (byte-level): random windows of the first 90% for
// training, the fixed consecutive windows of the last 10% for validation. `troupe train
// --data FILE.txt` is this function.
import { type TextCorpus, createWindowSampler, evalWindows } from "../../data/mod.js";
import type { GPT, GPTConfig } from "../../kernels/mod.js";
import { CheckpointMismatchError } from "../errors.js";
import { resolveGptConfig } from "../gpt.js";
import { buildModel, modelFromCheckpoint, specOf } from "../spec.js";
import { evalLoss, train } from "../training/mod.js";
import { type RunOptions, type TrainResult, dataPlan, loopOptions, resumePoint } from "./common.js";

export interface TextTrainOptions extends RunOptions {
  readonly corpus: TextCorpus;
  /** Defaults: DEFAULT_TEXT_CONFIG (vocab 256, block 128, 128 channels, 4 layers, 4 heads). */
  readonly model?: Partial<GPTConfig>;
  /** Validation batches used by the periodic evaluation (default 8); the final one uses all. */
  readonly evalBatches?: number;
}

/** `valLoss`: Mean CE (nats/token) over every validation window of the last 10%. */
export type TextTrainResult = TrainResult;

export async function trainText(o: TextTrainOptions): Promise<TextTrainResult> {
  const gpt = resolveGptConfig({ ...o.model, vocabSize: o.corpus.vocabSize });
  const batch = o.batch ?? 16;
  const seed = o.seed ?? 1337;
  const data = { kind: "text", name: o.corpus.name, tokens: o.corpus.tokens.length, valTokens: o.corpus.val.length };
  const resume = await resumePoint(o);
  let model: GPT;
  if (resume) {
    model = modelFromCheckpoint(resume).model;
    if (JSON.stringify(model.config) !== JSON.stringify(gpt) && o.model) {
      throw new CheckpointMismatchError(`the checkpoint's model ${JSON.stringify(model.config)} differs from the requested ${JSON.stringify(gpt)}; resume with the same model options`);
    }
  } else {
    model = buildModel({ gpt, lora: null, tokenizer: "bytes" }, seed);
  }
  const spec = specOf(model);
  const plan = dataPlan(o, batch);
  const sampler = plan.wrap(createWindowSampler(o.corpus.train, { batch: plan.rows, block: model.config.blockSize, seed }));
  const allVal = evalWindows(o.corpus.val, { batch, block: model.config.blockSize });
  const someVal = allVal.slice(0, o.evalBatches ?? 8);
  const config = { model: spec as never, data, train: { batch, seed, steps: o.steps, ...(o.dataParallel ? { globalRows: plan.rows } : {}) } };
  const r = await train({
    model,
    batches: sampler,
    ...loopOptions(o, config),
    ...(plan.accumulate !== undefined ? { accumulate: plan.accumulate } : {}),
    evaluate: { every: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)), batches: someVal },
    resume,
  });
  const valLoss = evalLoss(model, allVal);
  return {
    model, spec, steps: r.steps, trainLoss: r.trainLoss, valLoss, tokensPerS: r.tokensPerS,
    resumedFrom: r.resumedFrom, checkpoint: r.checkpoint, skippedSteps: r.skippedSteps, wallMs: r.wallMs,
  };
}
