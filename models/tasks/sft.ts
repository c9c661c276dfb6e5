// Supervised fine-tuning on prompt/response pairs (chat template, loss on the response and the
// end marker only), and the two steps of the quickstart's stages 0–1 built on it:
// pretrainBase (a fresh GPT on some domains of the prompt pack) and trainAdapter (LoRA/DoRA
// on a frozen base for another domain, with held-out exact match before and after).
import { type LaneItem, type SkipSummary, type Tokenizer, bitsPerByte, byteTokenizer, createSftBatcher, loadData, sftEvalBatches, tokenizerId } from "../../data/mod.js";
import type { GPTConfig } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { CheckpointMismatchError, ModelConfigError } from "../errors.js";
import { resolveGptConfig, weightsDigest } from "../gpt.js";
import { type LoraConfig, adapterOf, applyLora, isAdapterParam } from "../lora/mod.js";
import { attachTokenizer, buildModel, modelFromCheckpoint, sameSpec, specOf, tokenizerOf } from "../spec.js";
import { evalLoss, train } from "../training/mod.js";
import { type RunOptions, type TrainResult, dataPlan, loopOptions, resumePoint } from "./common.js";
import { type ExactMatchResult, evaluateExactMatch } from "./exact-match.js";

/** Train and held-out items of a lane (LaneItem from the data layer, or anything shaped so). */
export interface SftData {
  readonly train: readonly LaneItem[];
  readonly heldOut: readonly LaneItem[];
  /** How the data was made (recorded in checkpoints). */
  readonly describe: Record<string, unknown>;
  /** The tokenizer the items were encoded with (default: bytes). */
  readonly tokenizer?: Tokenizer;
}

export const DEFAULT_SFT_BLOCK = 64;

/** The SFT lane of the built-in prompt pack for some domains. */
export async function packData(domains: readonly string[], o: { block?: number; seed?: number; trainPerCell?: number; heldOutPerCell?: number; difficulties?: ("easy" | "hard")[]; tokenizer?: Tokenizer } = {}): Promise<SftData> {
  const block = o.block ?? DEFAULT_SFT_BLOCK;
  const source = {
    kind: "pack", domains: [...domains],
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.trainPerCell !== undefined ? { trainPerCell: o.trainPerCell } : {}),
    ...(o.heldOutPerCell !== undefined ? { heldOutPerCell: o.heldOutPerCell } : {}),
    ...(o.difficulties ? { difficulties: o.difficulties } : {}),
  };
  const ds = await loadData({ block, source, lanes: { routing: false, semantic: false, transfer: false } }, o.tokenizer ? { tokenizer: o.tokenizer } : {});
  return { train: ds.lanes.sft.train, heldOut: ds.lanes.sft.heldOut, describe: { ...source, block, tokenizer: tokenizerId(ds.tokenizer.spec) }, tokenizer: ds.tokenizer };
}

/** The SFT lane of a JSONL file (held out by metadata.split or prompt hash). */
export async function jsonlData(path: string, o: { block?: number; tokenizer?: Tokenizer } = {}): Promise<SftData & { skipped: DataSkips }> {
  const block = o.block ?? DEFAULT_SFT_BLOCK;
  const ds = await loadData({ block, source: { kind: "jsonl", train: path }, lanes: { routing: false, semantic: false, transfer: false } }, o.tokenizer ? { tokenizer: o.tokenizer } : {});
  const skipped = { lines: ds.source.skipped, examples: ds.lanes.sft.report.skipped };
  return { train: ds.lanes.sft.train, heldOut: ds.lanes.sft.heldOut, describe: { kind: "jsonl", path, block, tokenizer: tokenizerId(ds.tokenizer.spec) }, tokenizer: ds.tokenizer, skipped };
}

/** What loading skipped: bad JSONL lines, and records the SFT lane cannot use (too long, empty response). */
export interface DataSkips {
  readonly lines: SkipSummary;
  readonly examples: SkipSummary;
}

export interface SftTrainOptions extends RunOptions {
  readonly data: SftData;
  /** A model to train (e.g. a base with an adapter applied); else a fresh GPT of `config`. */
  readonly model?: CausalLM;
  readonly config?: Partial<GPTConfig>;
  /** Recorded in checkpoints (e.g. the base this adapter sits on). */
  readonly extraConfig?: Record<string, unknown>;
}

/** `valLoss`: Masked CE over the held-out items (response tokens + end marker); `valBpb` in bits per byte. */
export type SftTrainResult = TrainResult;

export async function trainSft(o: SftTrainOptions): Promise<SftTrainResult> {
  if (o.data.train.length === 0) throw new ModelConfigError("data", "no training examples (check the domains or the file)");
  const seed = o.seed ?? 1337;
  const batch = o.batch ?? 32;
  const resume = await resumePoint(o);
  const dataTok = o.data.tokenizer;
  if (o.model && dataTok && tokenizerId(dataTok.spec) !== tokenizerId(tokenizerOf(o.model).spec)) {
    throw new ModelConfigError("data.tokenizer", `the data is tokenized with ${tokenizerId(dataTok.spec)}, the model with ${tokenizerId(tokenizerOf(o.model).spec)}; encode the data with the model's tokenizer`);
  }
  let model = o.model ?? (() => {
    const tok = dataTok ?? byteTokenizer();
    // a BPE sets the vocabulary; bytes keep the config's (256 by default)
    const gpt = resolveGptConfig({ blockSize: DEFAULT_SFT_BLOCK, ...o.config, ...(tok.spec !== "bytes" ? { vocabSize: tok.vocabSize } : {}) });
    return attachTokenizer(buildModel({ arch: "gpt2", config: gpt, lora: null, tokenizer: tok.spec }, seed), tok);
  })();
  if (resume) {
    const fromCk = modelFromCheckpoint(resume).model;
    if (o.model) {
      if (!sameSpec(specOf(fromCk), specOf(o.model))) {
        throw new CheckpointMismatchError(`the checkpoint's model ${JSON.stringify(specOf(fromCk))} differs from this one ${JSON.stringify(specOf(o.model))}`);
      }
      o.model.loadStateDict(fromCk.stateDict());
    } else model = fromCk;
  }
  const block = model.dims.maxPositions;
  const V = model.dims.vocabSize;
  const bad = o.data.train.find((it) => it.ids.some((t) => t >= V));
  if (bad) throw new ModelConfigError("model", `the model's vocabulary has ${V} entries, the data has token ${Math.max(...bad.ids)} (the byte tokenizer needs at least 256)`);
  const longest = o.data.train.reduce((m, it) => Math.max(m, it.ids.length), 0);
  if (longest > block + 1) throw new ModelConfigError("data.block", `an example has ${longest} tokens, the model's block is ${block}`);
  const tok = tokenizerOf(model);
  const plan = dataPlan(o, batch);
  const batcher = plan.wrap(createSftBatcher(o.data.train, { batch: plan.rows, block, seed, pad: tok.eot }));
  const heldOut = o.data.heldOut.length ? sftEvalBatches(o.data.heldOut, { batch: 64, block, pad: tok.eot }) : [];
  const spec = specOf(model);
  const config = { model: spec as never, data: o.data.describe as never, train: { batch, seed, steps: o.steps, ...(o.dataParallel ? { globalRows: plan.rows } : {}) }, ...(o.extraConfig as object) };
  const r = await train({
    model, batches: batcher, ...loopOptions(o, config, tok.files),
    ...(plan.accumulate !== undefined ? { accumulate: plan.accumulate } : {}),
    ...(heldOut.length ? { evaluate: { every: o.evalEvery ?? Math.max(1, Math.floor(o.steps / 10)), batches: heldOut } } : {}),
    resume,
  });
  const valLoss = heldOut.length ? evalLoss(model, heldOut) : NaN;
  return {
    model, spec, steps: r.steps, trainLoss: r.trainLoss, valLoss, valBpb: heldOut.length ? bitsPerByte(valLoss, heldOut, tok) : NaN,
    tokensPerS: r.tokensPerS, resumedFrom: r.resumedFrom, checkpoint: r.checkpoint, skippedSteps: r.skippedSteps, wallMs: r.wallMs,
  };
}

/** A small default for prompt-pack models: 4 layers of 128 channels, block 64. */
export const DEFAULT_PACK_CONFIG: Partial<GPTConfig> = { vocabSize: 256, blockSize: DEFAULT_SFT_BLOCK, nEmbd: 128, nHead: 4, nLayer: 4 };

export interface PretrainBaseOptions extends RunOptions {
  /** Pack domains the base learns (e.g. ["arithmetic", "sorting", "counting"]). */
  readonly domains: readonly string[];
  readonly config?: Partial<GPTConfig>;
  readonly pack?: Parameters<typeof packData>[1];
}

/** Stage 0's base: a fresh GPT trained (all parameters) on some domains of the prompt pack. */
export async function pretrainBase(o: PretrainBaseOptions): Promise<SftTrainResult & { readonly data: SftData; readonly exactMatch: ExactMatchResult }> {
  const data = await packData(o.domains, { block: o.config?.blockSize ?? DEFAULT_SFT_BLOCK, ...o.pack });
  const r = await trainSft({ ...o, data, config: { ...DEFAULT_PACK_CONFIG, ...o.config } });
  return { ...r, data, exactMatch: evaluateExactMatch(r.model, data.heldOut) };
}

export interface TrainAdapterOptions extends RunOptions {
  /** The frozen base (it gets the adapter in place; mergeAdapters to fuse it later). */
  readonly base: CausalLM;
  /** Pack domains to adapt to, or ready data (e.g. from JSONL). */
  readonly domains?: readonly string[];
  readonly data?: SftData;
  readonly lora: Partial<LoraConfig> & { rank: number };
  readonly pack?: Parameters<typeof packData>[1];
}

export interface TrainAdapterResult extends SftTrainResult {
  readonly data: SftData;
  readonly baseExactMatch: ExactMatchResult;
  readonly adaptedExactMatch: ExactMatchResult;
  readonly trainableParameters: number;
}

/**
 * Stage 1: held-out exact match of the base, then a LoRA/DoRA adapter trained on the domain
 * with the base frozen, then exact match of the adapted model on the same held-out items.
 */
export async function trainAdapter(o: TrainAdapterOptions): Promise<TrainAdapterResult> {
  const data = o.data ?? (o.domains ? await packData(o.domains, { block: o.base.dims.maxPositions, ...o.pack, tokenizer: tokenizerOf(o.base) }) : null);
  if (!data) throw new ModelConfigError("trainAdapter", "give domains or data");
  if (adapterOf(o.base)) throw new ModelConfigError("trainAdapter.base", "the base already carries an adapter; merge it first (mergeAdapters)");
  const baseExactMatch = evaluateExactMatch(o.base, data.heldOut);
  const baseDigest = weightsDigest(o.base);
  applyLora(o.base, o.lora, { seed: o.seed ?? 0 });
  const trainable = o.base.namedParameters().filter(([n, t]) => t.requiresGrad && isAdapterParam(n)).reduce((a, [, t]) => a + t.size, 0);
  const r = await trainSft({ ...o, data, model: o.base, extraConfig: { base: { weights_sha256: baseDigest } } });
  return { ...r, data, baseExactMatch, adaptedExactMatch: evaluateExactMatch(r.model, data.heldOut), trainableParameters: trainable };
}
