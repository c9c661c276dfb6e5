// The body of `troupe train` (see train.ts for the flags): picks the data path (text, JSONL,
// pack), wires the checkpoint store, progress and Ctrl-C, and calls the models layer.
import { extname, join, resolve } from "node:path";
import { InterruptedError, UsageError } from "../errors.js";
import { type TrainFlags, checkDataPath, defaultRunName, traceWriter } from "./train.js";
import { checkCorpusFits, checkShape, withDataFlag } from "./train-checks.js";

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

interface DataParallelFlags {
  readonly world: number;
  readonly rank: number;
  readonly group: string;
  readonly address: string;
  readonly host: string;
  readonly compression: "none" | "f16" | "bf16";
  readonly onPeerLoss: "stop" | "continue";
}

function dataParallelFlags(flags: TrainFlags, run: string): DataParallelFlags | null {
  const given = flags.dpWorld !== undefined || flags.dpRank !== undefined || flags.dpGroup !== undefined || flags.dpAddress !== undefined || flags.compression !== undefined || flags.onPeerLoss !== undefined;
  if (!given) return null;
  if (flags.dpWorld === undefined || flags.dpRank === undefined) throw new UsageError("data-parallel training needs --dp-world N and --dp-rank R (and the same --dp-group on every rank)");
  if (flags.dpRank >= flags.dpWorld) throw new UsageError(`--dp-rank must be below --dp-world ${flags.dpWorld}, got ${flags.dpRank}`);
  if (flags.dpWorld > 1 && !flags.nats) throw new UsageError("--dp-world > 1 needs --nats URL: the ranks find each other's link endpoints there");
  const compression = flags.compression ?? "none";
  if (compression !== "none" && compression !== "f16" && compression !== "bf16") throw new UsageError(`--compression must be none, f16 or bf16, got ${JSON.stringify(compression)}`);
  const onPeerLoss = flags.onPeerLoss ?? "stop";
  if (onPeerLoss !== "stop" && onPeerLoss !== "continue") throw new UsageError(`--on-peer-loss must be stop or continue, got ${JSON.stringify(onPeerLoss)}`);
  const group = flags.dpGroup ?? run;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(group)) throw new UsageError(`--dp-group must be 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(group)}`);
  const host = flags.host ?? `rank${flags.dpRank}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(host)) throw new UsageError(`--host must be 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(host)}`);
  return { world: flags.dpWorld, rank: flags.dpRank, group, address: flags.dpAddress ?? "127.0.0.1", host, compression, onPeerLoss };
}

/** --tokenizer DIR, with a bad directory or file as a usage error that says why. */
async function loadTokenizerFlag(dir: string): Promise<import("../../data/mod.js").HfTokenizer> {
  const D = await import("../../data/mod.js");
  try {
    return await D.loadTokenizer(dir);
  } catch (err) {
    if (D.isTokenizerError(err) || D.isUnsupportedTokenizerError(err)) throw new UsageError(`--tokenizer: ${err.message}`);
    throw err;
  }
}

export async function runTrain(flags: TrainFlags): Promise<Record<string, unknown>> {
  checkDataPath(flags.data);
  const M = await import("../../models/mod.js");
  const D = await import("../../data/mod.js");
  const log = M.modelsLogger("train");
  if (!flags.base && !flags.model) checkShape(flags, M.DEFAULT_TEXT_CONFIG);
  const run = flags.run ?? defaultRunName(flags.data);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(run)) throw new UsageError(`--run must be 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(run)}`);
  const dp = dataParallelFlags(flags, run);
  // each rank keeps its own checkpoints, as separate machines would
  const out = dp ? join(flags.out, dp.host) : flags.out;
  const local = M.localCheckpointStore(out);
  const existing = await local.list(run, flags.stage);
  if (existing.length && !flags.resume) {
    if (!flags.force) {
      throw new UsageError(`${join(out, run)} already has checkpoints (up to step ${existing[existing.length - 1]!.step}); pass --resume to continue, --force to start over, or --run NAME`);
    }
    for (const kind of M.CHECKPOINT_KINDS) for (const ref of await local.list(run, flags.stage, kind)) await local.remove(ref);
  }
  if (flags.lora === undefined && (flags.loraAlpha || flags.loraDropout || flags.loraTargets || flags.dora)) {
    throw new UsageError("--lora-alpha, --lora-dropout, --lora-targets and --dora need --lora R");
  }
  if (flags.model && flags.base) throw new UsageError("--model and --base name the same thing (the model to start from); give one");
  const startPath = flags.model ?? flags.base;
  const startFlag = flags.model ? "--model" : "--base";
  if (flags.lora !== undefined && !startPath) throw new UsageError("--lora needs --model DIR or --base CHECKPOINT (the frozen model the adapter is trained on)");
  if (flags.baseBits !== undefined && flags.lora === undefined) throw new UsageError("--base-bits quantises the frozen base of a --lora run: give --lora R");
  if (flags.baseBits !== undefined && flags.baseBits !== 4 && flags.baseBits !== 8) throw new UsageError(`--base-bits must be 4 or 8, got ${flags.baseBits}`);
  if (flags.baseBits !== undefined && flags.fuse) throw new UsageError("--fuse merges into f32 weights; a --base-bits run's base is quantised: fuse the adapter onto the f32 base afterwards (troupe model fuse)");
  if (flags.fuse && (flags.lora === undefined || !flags.saveHf)) throw new UsageError("--fuse merges a --lora adapter into its base before --save-hf writes it: give both");

  // --nats: every checkpoint also goes to the run's JetStream Object Store (and is read back from
  // it); data-parallel ranks find each other there. Of a data-parallel group, rank 0 mirrors.
  let nc: import("../../hosts/mod.js").NatsConnection | null = null;
  let store: import("../../models/mod.js").CheckpointStore = local;
  const H = flags.nats ? await import("../../hosts/mod.js") : null;
  if (flags.nats) {
    nc = await H!.connectNats(flags.nats);
    if (!dp || dp.rank === 0) store = M.mirroredCheckpointStore(local, H!.objectCheckpointStore(nc));
  }
  const { onInterrupt, resumeCommand } = await import("../interrupt.js");
  const interrupt = onInterrupt("stopping after this step and saving a checkpoint of it");
  // created with the first update, which also says the memory estimate
  let memory: import("./train-memory.js").MemoryCheck | null = null;
  let progress: import("../../models/mod.js").ProgressReporter | null = null;
  const label = dp ? `${run} ${dp.host}` : run;
  const { checkMemory } = await import("./train-memory.js");
  const curves = (await import("./train-report.js")).trainCurves();
  const trace = traceWriter(flags.trace);
  const writeReport = (outcome: "done" | "interrupted", result: Record<string, unknown>) =>
    curves.write({ dir: join(out, run), run, data: flags.data, outcome, result, flags: { ...flags } as Record<string, unknown> });
  // a resume keeps the stored value of every hyper-parameter whose flag is not given
  const HP = await import("./train-hparams.js");
  const stored = flags.resume ? await HP.readStoredHparams(join(out, run, "checkpoints", flags.stage)) : null;
  const was = stored?.hparams;
  const lr = num("--lr", flags.lr) ?? was?.lr ?? (flags.lora !== undefined ? 2e-3 : 1e-3);
  const weightDecay = num("--weight-decay", flags.weightDecay) ?? was?.weight_decay;
  const betas = HP.parseBetas(flags.betas) ?? (was ? [was.betas[0], was.betas[1]] as [number, number] : undefined);
  const gradClip = num("--grad-clip", flags.gradClip) ?? (was ? (was.grad_clip ?? 0) : undefined);
  const accumulate = flags.accumulate ?? was?.accumulate;
  const batch = flags.batch ?? stored?.batch ?? undefined;
  const common = {
    steps: flags.steps,
    ...(batch !== undefined ? { batch } : {}),
    ...(accumulate !== undefined ? { accumulate } : {}),
    lr,
    warmupSteps: flags.warmup ?? was?.warmup_steps ?? HP.defaultWarmup(flags.steps),
    minLr: num("--min-lr", flags.minLr) ?? was?.min_lr ?? lr / 10,
    ...(weightDecay !== undefined ? { weightDecay } : {}),
    ...(betas ? { betas } : {}),
    ...(gradClip !== undefined ? { clipNorm: gradClip === 0 ? null : gradClip } : {}),
    evalEvery: flags.evalEvery ?? HP.defaultEvalEvery(flags.steps),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    checkpoints: { store, run, stage: flags.stage, every: flags.checkpointEvery ?? HP.defaultCheckpointEvery(flags.steps) },
    resume: flags.resume === true,
    onProgress: (p: import("../../models/mod.js").TrainProgress) => {
      curves.onProgress(p);
      (progress ??= M.createProgress({ stream: process.stderr, label, ...(memory ? { first: { text: memory.text, fields: memory.fields } } : {}) })).update(p);
    },
    onStep: (r: { step: number; loss: number }) => {
      curves.onStep(r.step, r.loss);
      trace?.(r.step, r.loss);
    },
    signal: interrupt.signal,
    log,
  };
  // the hyper-parameters this command trains with, as the checkpoints store them
  const hparams = M.hparamsOf(M.resolveTrainer({ ...common, checkpoints: { ...common.checkpoints, config: null }, resume: null, model: null as never, batches: null as never }), betas ?? M.DEFAULT_BETAS);
  const isSft = flags.data.startsWith("pack:") || extname(flags.data).toLowerCase() === ".jsonl";
  const changed = stored ? await HP.checkResumeHparams(stored, { ...hparams, batch: batch ?? (isSft ? 32 : 16) }, flags.allowChange === true) : [];
  if (changed.length) log.warn({ changed }, "resuming with changed hyper-parameters (--allow-change)");
  const model = {
    ...(flags.block !== undefined ? { blockSize: flags.block } : {}),
    ...(flags.layers !== undefined ? { nLayer: flags.layers } : {}),
    ...(flags.embd !== undefined ? { nEmbd: flags.embd } : {}),
    ...(flags.heads !== undefined ? { nHead: flags.heads } : {}),
    ...(flags.dropout !== undefined ? { dropout: num("--dropout", flags.dropout)! } : {}),
  };
  // --save-hf: the model as a Hugging Face directory, or its adapter as a PEFT one (--fuse: merged first)
  const save = (trained: import("../../models/mod.js").CausalLM): Record<string, unknown> => {
    if (!flags.saveHf) return {};
    if (M.adapterOf(trained) && !flags.fuse) {
      const baseModel = startPath && M.isHfModelDir(startPath) ? resolve(startPath) : null;
      M.savePeftAdapter(trained, flags.saveHf, { baseModel });
      return { saved_hf: { dir: flags.saveHf, kind: "peft-adapter", base: baseModel } };
    }
    const fused = flags.fuse ? M.mergeAdapters(trained) : [];
    const saved = M.saveHfModel(trained, flags.saveHf);
    return { saved_hf: { dir: flags.saveHf, kind: "hf-model", files: saved.files, fused_layers: fused.length } };
  };
  const ckDir = (r: { checkpoint: { run: string; stage: string; step: number; kind: "step" | "best" } | null }) => (r.checkpoint ? local.dirOf(r.checkpoint) : null);
  const tok = flags.tokenizer ? await loadTokenizerFlag(flags.tokenizer) : null;
  const tokenizerName = (t: import("../../data/mod.js").Tokenizer) => (flags.tokenizer && tok === t ? flags.tokenizer : D.tokenizerId(t.spec));
  const ext = extname(flags.data).toLowerCase();
  const isText = !flags.data.startsWith("pack:") && ext !== ".jsonl";
  if (isText && flags.lora !== undefined) throw new UsageError("--lora trains on prompt/response data: give --data FILE.jsonl or pack:DOMAINS");

  type Extra = { resume?: boolean; dataParallel?: import("../../models/mod.js").DataParallelOptions };
  const trainOnce = async (extra: Extra): Promise<Record<string, unknown>> => {
    const c = { ...common, ...extra, resume: common.resume || extra.resume === true };
    // the model to start from (--model / --base) brings its tokenizer; --tokenizer must agree with it
    const { loadModelArg, modelPathOrRun } = await import("../models.js");
    const base = startPath ? await loadModelArg(`${startFlag} ${startPath}`, modelPathOrRun(`${startFlag} ${startPath}`, startPath, flags.out)) : null;
    const baseTok = base ? M.tokenizerOf(base.model) : null;
    if (tok && baseTok && D.tokenizerId(tok.spec) !== D.tokenizerId(baseTok.spec)) {
      throw new UsageError(`--tokenizer ${flags.tokenizer} is not the tokenizer of the model it starts from (${D.tokenizerId(baseTok.spec)}); leave --tokenizer out to use the model's`);
    }
    const tokenizer = tok ?? baseTok ?? D.byteTokenizer();
    // the shape the memory estimate reads: the starting model's, or the flags' over the defaults
    const shapeOf = (defaults: Partial<import("../../models/mod.js").GPTConfig>, blockSize: number) => base
      ? { vocabSize: base.model.dims.vocabSize, blockSize, nEmbd: base.model.dims.hidden, nHead: base.model.dims.heads, nLayer: base.model.dims.layers, parameters: M.countParameters(base.model) }
      : M.resolveGptConfig({ ...defaults, vocabSize: tokenizer.spec !== "bytes" ? tokenizer.vocabSize : defaults.vocabSize, ...model, blockSize });
    if (isText) {
      const textBlock = flags.block ?? (base ? base.model.dims.maxPositions : M.DEFAULT_TEXT_CONFIG.blockSize);
      memory = await checkMemory(shapeOf(M.DEFAULT_TEXT_CONFIG, textBlock), batch ?? 16, flags.force === true);
      const corpus = await D.loadTextCorpus(flags.data, tokenizer.spec !== "bytes" ? { tokenizer } : {});
      checkCorpusFits(flags.data, corpus, textBlock, flags.block !== undefined);
      const r = await M.trainText({ ...c, corpus, model, ...(base ? { start: base.model } : {}) });
      return {
        ...save(r.model),
        train_loss: round(r.trainLoss), val_loss: round(r.valLoss), val_bpb: round(r.valBpb), tokenizer: tokenizerName(corpus.tokenizer),
        tokens_per_s: Math.round(r.tokensPerS), steps: r.steps,
        wall_s: round(r.wallMs / 1000, 1), resumed_from: r.resumedFrom, skipped_steps: r.skippedSteps, checkpoint: ckDir(r),
        parameters: M.countParameters(r.model), memory_estimate_bytes: memory.estimate.total, arch: r.spec.arch, config: r.spec.config,
      };
    }
    const block = flags.block ?? (startPath ? undefined : M.DEFAULT_SFT_BLOCK);
    const dataBlock = block ?? base!.model.dims.maxPositions;
    const shape = shapeOf(M.DEFAULT_PACK_CONFIG, dataBlock);
    // a LoRA adapter on the attention projections: about rank × 6C per block
    const loraTrainable = flags.lora !== undefined ? shape.nLayer * 6 * flags.lora * shape.nEmbd : undefined;
    memory = await checkMemory(shape, batch ?? 32, flags.force === true, loraTrainable);
    const data = await withDataFlag(flags.data, async () => flags.data.startsWith("pack:")
      ? await M.packData(flags.data.slice(5).split(",").map((s) => s.trim()).filter(Boolean), { block: dataBlock, tokenizer, ...(flags.packTrain ? { trainPerCell: flags.packTrain } : {}) })
      : await M.jsonlData(flags.data, { block: dataBlock, tokenizer }));
    const em = (e: { accuracy: number; overall: { n: number } }) => ({ exact_match: round(e.accuracy), n: e.overall.n });
    const skips = "skipped" in data ? (data as { skipped: import("../../models/mod.js").DataSkips }).skipped : null;
    const records = {
      train: data.train.length, held_out: data.heldOut.length,
      ...(skips ? { skipped_lines: skips.lines.count, skipped_examples: skips.examples.count, skipped_by_reason: { ...skips.lines.byReason, ...skips.examples.byReason } } : {}),
    };
    if (skips && skips.lines.count + skips.examples.count > 0) log.warn({ first: [...skips.lines.first, ...skips.examples.first].slice(0, 5) }, "skipped records");
    if (flags.lora !== undefined) {
      const lora = {
        rank: flags.lora,
        ...(flags.loraAlpha !== undefined ? { alpha: num("--lora-alpha", flags.loraAlpha)! } : {}),
        ...(flags.loraDropout !== undefined ? { dropout: num("--lora-dropout", flags.loraDropout)! } : {}),
        ...(flags.loraTargets !== undefined ? { targets: flags.loraTargets.split(",").map((s) => s.trim()) } : {}),
        dora: flags.dora === true,
      };
      const quantized = flags.baseBits !== undefined ? M.quantizeBase(base!.model, flags.baseBits as 4 | 8) : null;
      const r = await M.trainAdapter({ ...c, base: base!.model, data, lora });
      const adapterPath = join(out, run, "adapter.safetensors");
      await M.saveAdapter(r.model, adapterPath);
      return {
      ...save(r.model),
        train_loss: round(r.trainLoss), val_loss: round(r.valLoss), val_bpb: round(r.valBpb), tokenizer: tokenizerName(tokenizer),
        tokens_per_s: Math.round(r.tokensPerS), steps: r.steps,
        base_exact_match: round(r.baseExactMatch.accuracy), adapted_exact_match: round(r.adaptedExactMatch.accuracy),
        held_out: r.adaptedExactMatch.overall.n, records,
        by_domain: Object.fromEntries(Object.keys(r.adaptedExactMatch.byDomain).map((d) => [d, { base: round(r.baseExactMatch.byDomain[d]!.accuracy), adapted: round(r.adaptedExactMatch.byDomain[d]!.accuracy) }])),
        wall_s: round(r.wallMs / 1000, 1), resumed_from: r.resumedFrom, trainable_parameters: r.trainableParameters,
        adapter: adapterPath, base: base!.source, checkpoint: ckDir(r), memory_estimate_bytes: memory.estimate.total,
        ...(quantized ? { base_bits: quantized.bits, quantized_layers: quantized.layers, quantized_mb: round(quantized.bytes / 2 ** 20, 2) } : {}),
      };
    }
    const r = await M.trainSft({ ...c, data, ...(base ? { model: base.model } : { config: { ...M.DEFAULT_PACK_CONFIG, ...model } }) });
    const e = M.evaluateExactMatch(r.model, data.heldOut);
    return {
      ...save(r.model),
      train_loss: round(r.trainLoss), val_loss: round(r.valLoss), val_bpb: round(r.valBpb), tokenizer: tokenizerName(tokenizer),
      tokens_per_s: Math.round(r.tokensPerS), steps: r.steps,
      ...em(e), records, by_domain: Object.fromEntries(Object.entries(e.byDomain).map(([d, t]) => [d, round(t.accuracy)])),
      wall_s: round(r.wallMs / 1000, 1), resumed_from: r.resumedFrom, checkpoint: ckDir(r), parameters: M.countParameters(r.model),
      memory_estimate_bytes: memory.estimate.total,
    };
  };

  try {
    if (!dp) {
      const result = await trainOnce({});
      const report = await writeReport("done", result);
      return { ...result, report: report.html };
    }
    // the global batch: every rank's rows; kept when the group shrinks (the survivors accumulate)
    const rowsPerRank = flags.batch ?? (isText ? 16 : 32);
    const globalRows = rowsPerRank * (flags.accumulate ?? 1) * dp.world;
    const report = await H!.runDataParallel({
      nc: nc!, run, group: dp.group, rank: dp.rank, world: dp.world, address: dp.address, hostName: dp.host,
      compression: dp.compression, onPeerLoss: dp.onPeerLoss, resume: flags.resume === true, log,
      ...(flags.deadAfterMs !== undefined ? { deadAfterMs: flags.deadAfterMs } : {}),
    }, (a) => trainOnce({ resume: a.resume, dataParallel: { sync: a.sync, globalRows } }));
    const last = report.generations[report.generations.length - 1]!;
    const data_parallel = {
      outcome: report.outcome, group: dp.group, host: dp.host, rank: last.rank, world: last.world, initial_world: dp.world,
      global_rows: globalRows, compression: dp.compression, on_peer_loss: dp.onPeerLoss, lost: report.lost,
      generations: report.generations.map((g) => ({ generation: g.generation, rank: g.rank, world: g.world, members: g.members, lost: g.lost, error: g.error, failed_at: g.failedAt, buckets: g.sync.buckets, overlapped: g.sync.overlapped, wait_ms: Math.round(g.sync.waitMs) })),
      checkpoints: join(out, run),
    };
    return report.result ? { ...report.result, data_parallel } : { data_parallel };
  } catch (err) {
    if (!M.isTrainingAbortedError(err) || !interrupt.interrupted()) throw err;
    (progress as import("../../models/mod.js").ProgressReporter | null)?.close();
    const saved = err.checkpoint ? `saved a checkpoint of step ${err.checkpoint.step} in ${local.dirOf(err.checkpoint)}` : "no checkpoint was written (no step had finished)";
    const report = await writeReport("interrupted", { steps: err.step, checkpoint: err.checkpoint ? local.dirOf(err.checkpoint) : null }).catch(() => null);
    throw new InterruptedError(`interrupted at step ${err.step}: ${saved}${report ? `; report ${report.html}` : ""}; continue with: ${resumeCommand()}`, { cause: err });
  } finally {
    (progress as import("../../models/mod.js").ProgressReporter | null)?.close();
    interrupt.dispose();
    await nc?.close();
  }
}
