// Language-model training on a text corpus with the corpus's tokenizer (bytes or a BPE): random
// windows of the first 90% for training, the fixed consecutive windows of the last 10% for
// validation, reported in nats per token and in bits per byte. `troupe train --data FILE.txt
// [--tokenizer DIR] [--model DIR]` is this function.
import { type TextCorpus, bitsPerByte, createWindowSampler, evalWindows, tokenizerId } from "../../data/mod.js";
import type { GPTConfig } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { CheckpointMismatchError, ModelConfigError } from "../errors.js";
import { resolveGptConfig } from "../gpt.js";
import { attachTokenizer, buildModel, modelFromCheckpoint, specOf, tokenizerOf } from "../spec.js";
import { evalLoss, train } from "../training/mod.js";
import { type RunOptions, type TrainResult, dataPlan, loopOptions, resumePoint } from "./common.js";

export interface TextTrainOptions extends RunOptions {
  readonly corpus: TextCorpus;
  /** Defaults: DEFAULT_TEXT_CONFIG (vocab 256, block 128, 128 channels, 4 layers, 4 heads). */
  readonly model?: Partial<GPTConfig>;
  /** Train this model (any architecture, e.g. a Hugging Face directory) instead of a fresh GPT. */
  readonly start?: CausalLM;
  /** Validation batches used by the periodic evaluation (default 8); the final one uses all. */
  readonly evalBatches?: number;
}

/** `valLoss`: Mean CE (nats/token) over every validation window of the last 10%; `valBpb` the same in bits per byte. */
export type TextTrainResult = TrainResult;

export async function trainText(o: TextTrainOptions): Promise<TextTrainResult> {
  const gpt = resolveGptConfig({ ...o.model, vocabSize: o.corpus.vocabSize });
  const batch = o.batch ?? 16;
  const seed = o.seed ?? 1337;
  const data = { kind: "text", name: o.corpus.name, tokens: o.corpus.tokens.length, valTokens: o.corpus.val.length, tokenizer: tokenizerId(o.corpus.tokenizer.spec) };
  const resume = await resumePoint(o);
  let model: CausalLM;
  if (resume) {
    model = modelFromCheckpoint(resume).model;
    if (tokenizerId(tokenizerOf(model).spec) !== tokenizerId(o.corpus.tokenizer.spec)) {
      throw new CheckpointMismatchError(`the checkpoint was trained with tokenizer ${tokenizerId(tokenizerOf(model).spec)}, this corpus is tokenized with ${tokenizerId(o.corpus.tokenizer.spec)}; resume with the same --tokenizer`);
    }
    if (JSON.stringify(specOf(model).config) !== JSON.stringify(gpt) && o.model) {
      throw new CheckpointMismatchError(`the checkpoint's model ${JSON.stringify(specOf(model).config)} differs from the requested ${JSON.stringify(gpt)}; resume with the same model options`);
    }
  } else if (o.start) {
    if (tokenizerId(tokenizerOf(o.start).spec) !== tokenizerId(o.corpus.tokenizer.spec)) {
      throw new ModelConfigError("tokenizer", `the model's tokenizer is ${tokenizerId(tokenizerOf(o.start).spec)}, this corpus is tokenized with ${tokenizerId(o.corpus.tokenizer.spec)}; tokenize the corpus with the model's tokenizer`);
    }
    if (o.start.dims.vocabSize < o.corpus.vocabSize) {
      throw new ModelConfigError("model", `the model's vocabulary has ${o.start.dims.vocabSize} entries; the ${o.corpus.vocabSize}-id tokenizer of this corpus needs at least ${o.corpus.vocabSize}`);
    }
    model = o.start;
  } else {
    model = attachTokenizer(buildModel({ arch: "gpt2", config: gpt, lora: null, tokenizer: o.corpus.tokenizer.spec }, seed), o.corpus.tokenizer);
  }
  const spec = specOf(model);
  const plan = dataPlan(o, batch);
  const sampler = plan.wrap(createWindowSampler(o.corpus.train, { batch: plan.rows, block: model.dims.maxPositions, seed }));
  const allVal = evalWindows(o.corpus.val, { batch, block: model.dims.maxPositions });
  const someVal = allVal.slice(0, o.evalBatches ?? 8);
  const config = { model: spec as never, data, train: { batch, seed, steps: o.steps, ...(o.dataParallel ? { globalRows: plan.rows } : {}) } };
  const r = await train({
    model,
    batches: sampler,
    ...loopOptions(o, config, o.corpus.tokenizer.files),
    ...(plan.accumulate !== undefined ? { accumulate: plan.accumulate } : {}),
    evaluate: { every: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)), batches: someVal },
    resume,
  });
  const valLoss = evalLoss(model, allVal);
  return {
    model, spec, steps: r.steps, trainLoss: r.trainLoss, valLoss, valBpb: bitsPerByte(valLoss, allVal, o.corpus.tokenizer), tokensPerS: r.tokensPerS,
    resumedFrom: r.resumedFrom, checkpoint: r.checkpoint, skippedSteps: r.skippedSteps, wallMs: r.wallMs,
  };
}
