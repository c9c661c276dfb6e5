// The compression commands: `troupe compress FILE` (the whole pipeline from a config, with a
// gate after every step) and its steps one at a time — `distill`, `prune`, `quantize`,
// `export`. Models come from a checkpoint, stage or run directory, a model.safetensors or a
// .gguf; results go to --out (a GGUF for export and quantize, a model.safetensors otherwise).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

type M = typeof import("../../models/mod.js");

async function loadModel(M: M, path: string) {
  if (path.endsWith(".gguf")) return M.readGgufModel(path);
  const { model } = await M.loadModelFile(path);
  M.mergeAdapters(model);
  model.eval();
  return model;
}

/** A corpus path as given, or found in ../shared when it points there and is not here. */
async function corpusPath(path: string): Promise<string> {
  if (existsSync(path)) return path;
  const m = /(?:^|\/)shared\/(.+)$/.exec(path);
  if (m) {
    const { sharedPath } = await import("../../bench/shared.js");
    const p = sharedPath(m[1]!);
    if (existsSync(p)) return p;
  }
  throw new UsageError(`the corpus ${path} does not exist`);
}

function num(name: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new UsageError(`${name} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

function writeOut(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** model.safetensors in `dir`, with the model's tokenizer files beside it (none for bytes). */
function writeModel(Mm: M, dir: string, model: import("../../models/mod.js").CausalLM): void {
  writeOut(join(dir, "model.safetensors"), Mm.serializeModelFile(model));
  for (const [name, bytes] of Mm.tokenizerOf(model).files) writeOut(join(dir, name), bytes);
}

export function register(program: Command): void {
  program
    .command("compress")
    .description("distil → prune → quantise → fine-tune → export from a config, with a quality gate after each step")
    .argument("<file>", "compression config (YAML), e.g. scenarios/compress-shakespeare.yaml")
    .option("--json", "print one JSON document")
    .option("--fresh", "train the teacher again instead of using the cached one")
    .action(async (file: string, o: { json?: boolean; fresh?: boolean }) => {
      const S = await import("../../scenarios/mod.js");
      const plan = S.loadCompressConfig(file);
      const Mm = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const data = await corpusPath(plan.data);
      let teacher;
      let corpus;
      if (plan.teacher.checkpoint) {
        teacher = await loadModel(Mm, plan.teacher.checkpoint);
        corpus = await D.loadTextCorpus(data);
      } else {
        const { shakespeareBase } = await import("../../bench/compress/mod.js");
        const b = await shakespeareBase({ steps: plan.teacher.trainSteps!, data, fresh: !!o.fresh, say: progress });
        teacher = b.model;
        corpus = b.corpus;
      }
      mkdirSync(plan.out, { recursive: true });
      const steps = plan.steps.map((s): import("../../models/mod.js").PipelineStep => {
        const t = "steps" in s ? {
          steps: s.steps ?? 300, ...(s.lr !== undefined ? { lr: s.lr } : {}), distill: s.distill,
          ...(s.temperature !== undefined ? { temperature: s.temperature } : {}), ...(s.alpha !== undefined ? { alpha: s.alpha } : {}), ...(s.top_k !== undefined ? { topK: s.top_k } : {}),
        } : { steps: 0 };
        switch (s.kind) {
          case "distill": return { kind: "distill", ...t, ...(s.student ? { student: { ...(s.student.n_embd ? { nEmbd: s.student.n_embd } : {}), ...(s.student.n_layer ? { nLayer: s.student.n_layer } : {}), ...(s.student.n_head ? { nHead: s.student.n_head } : {}), ...(s.student.seed !== undefined ? { seed: s.student.seed } : {}) } } : {}) };
          case "prune": return { kind: "prune", ...t, prune: s.prune, sparsity: s.sparsity };
          case "quantize": return { kind: "quantize", ...t, method: s.method, format: s.format };
          case "finetune": return { kind: "finetune", ...t };
          case "export": return { kind: "export", type: s.type, path: join(plan.out, s.path) };
        }
      });
      const t0 = performance.now();
      const r = await Mm.runPipeline({ teacher, corpus, steps, maxIncrease: plan.maxIncrease, seed: plan.seed, say: progress, ...(plan.valBatches ? { valBatches: plan.valBatches } : {}) });
      const out = { name: plan.name, ...r, wall_s: Math.round((performance.now() - t0) / 100) / 10 };
      writeFileSync(join(plan.out, "compress-report.json"), JSON.stringify(out, null, 2));
      if (o.json) printJson(out);
      else {
        printLine(`teacher: ${r.teacher.bytes} bytes (f32), val loss ${r.teacher.val_loss}`);
        for (const s of r.steps) printLine(`${s.step.padEnd(9)} ${String(s.bytes).padStart(9)} bytes  val ${s.val_loss.toFixed(4)} (${(s.val_loss_increase * 100).toFixed(2)}%)  ${s.passed ? "passed" : "FAILED"}`);
        printLine(`compression ${r.compression}x, val loss increase ${(r.val_loss_increase * 100).toFixed(2)}%${r.exported ? `, wrote ${r.exported}` : ""}`);
      }
      if (!r.passed) process.exitCode = ExitCode.failure;
    });

  program
    .command("export")
    .description("write a model as GGUF for llama.cpp (F32, F16, Q8_0, Q4_0)")
    .requiredOption("--checkpoint <path>", "checkpoint, stage or run directory, model.safetensors or .gguf")
    .option("--format <f>", "file format", "gguf")
    .requiredOption("--type <t>", "f32 | f16 | q8_0 | q4_0")
    .requiredOption("--out <file>", "the GGUF file to write")
    .option("--json", "print one JSON document")
    .action(async (o: { checkpoint: string; format: string; type: string; out: string; json?: boolean }) => {
      if (o.format !== "gguf") throw new UsageError(`--format must be gguf, got ${JSON.stringify(o.format)}`);
      if (!["f32", "f16", "q8_0", "q4_0"].includes(o.type)) throw new UsageError(`--type must be one of f32, f16, q8_0, q4_0, got ${JSON.stringify(o.type)}`);
      const Mm = await import("../../models/mod.js");
      const model = await loadModel(Mm, o.checkpoint);
      const g = Mm.modelToGguf(model, { type: o.type as "f32" });
      writeOut(o.out, g.bytes);
      const r = { out: o.out, type: o.type, bytes: g.bytes.length, tensors: g.tensors.length, architecture: model.arch, config: Mm.configOf(model) };
      if (o.json) printJson(r);
      else printLine(`wrote ${o.out}: ${g.bytes.length} bytes, ${g.tensors.length} tensors (${o.type}, llama.cpp ${model.arch})`);
    });

  program
    .command("quantize")
    .description("quantise a model to 8 or 4 bits: post-training (ggml's Q8_0/Q4_0 blocks) or quantization-aware training; writes a GGUF")
    .requiredOption("--checkpoint <path>", "the f32 model")
    .requiredOption("--bits <n>", "8 (Q8_0) or 4 (Q4_0)")
    .option("--method <m>", "ptq | qat", "ptq")
    .option("--data <file>", "text corpus: validation loss (and QAT's training data)", "../shared/data/tinyshakespeare/input.txt")
    .option("--steps <n>", "QAT steps", intArg("--steps", 1, 1_000_000), 300)
    .option("--lr <x>", "QAT learning rate", "3e-4")
    .option("--activations <bits>", "also simulate static activation quantisation of every Linear input at this width (calibrated; reported, not written to the GGUF)", intArg("--activations", 2, 8))
    .option("--calibration <kind>", "activation calibration: minmax | percentile", "percentile")
    .option("--percentile <p>", "for --calibration percentile", "99.99")
    .option("--calibration-batches <n>", "batches of 16 training windows to calibrate on", intArg("--calibration-batches", 1, 10_000), 8)
    .requiredOption("--out <file>", "the GGUF file to write")
    .option("--json", "print one JSON document")
    .action(async (o: { checkpoint: string; bits: string; method: string; data: string; steps: number; lr: string; activations?: number; calibration: string; percentile: string; calibrationBatches: number; out: string; json?: boolean }) => {
      if (o.calibration !== "minmax" && o.calibration !== "percentile") throw new UsageError(`--calibration must be minmax or percentile, got ${JSON.stringify(o.calibration)}`);
      if (o.bits !== "8" && o.bits !== "4") throw new UsageError(`--bits must be 8 or 4, got ${JSON.stringify(o.bits)}`);
      if (o.method !== "ptq" && o.method !== "qat") throw new UsageError(`--method must be ptq or qat, got ${JSON.stringify(o.method)}`);
      const type = o.bits === "8" ? "q8_0" : "q4_0";
      const Mm = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const model = await loadModel(Mm, o.checkpoint);
      const corpus = await D.loadTextCorpus(await corpusPath(o.data));
      const before = Mm.validationLoss(model, corpus);
      if (o.method === "qat") {
        const { clock } = Mm.applyQat(model, { format: type });
        await Mm.trainCompressed({ model, corpus, steps: o.steps, lr: num("--lr", o.lr, 1e-8, 1), qatClock: clock, onProgress: (p) => p.step % 50 === 0 && progress(`[quantize] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}`) });
        Mm.removeQat(model);
      }
      const after = Mm.validationLoss(Mm.dequantizedCopy(model, type), corpus);
      let activations: Record<string, unknown> | null = null;
      if (o.activations) {
        const sim = Mm.copyGpt(model);
        const calib = D.evalWindows(corpus.train, { batch: 16, block: model.dims.maxPositions, maxBatches: o.calibrationBatches });
        const calibration = o.calibration === "minmax" ? { kind: "minmax" as const } : { kind: "percentile" as const, percentile: num("--percentile", o.percentile, 1e-6, 100) };
        Mm.applyPtq(sim, calib, { weights: type, activations: { bits: o.activations, calibration } });
        activations = { bits: o.activations, calibration, batches: calib.length, val_loss: Mm.validationLoss(sim, corpus) };
      }
      const g = Mm.modelToGguf(model, { type });
      writeOut(o.out, g.bytes);
      const r = { out: o.out, method: o.method, type, bytes: g.bytes.length, f32_val_loss: before, val_loss: after, relative: after / before - 1, activations };
      if (o.json) printJson(r);
      else printLine(`${o.method} ${type}: val loss ${before.toFixed(4)} → ${after.toFixed(4)} (${((after / before - 1) * 100).toFixed(2)}%), wrote ${o.out} (${g.bytes.length} bytes)`);
    });

  program
    .command("prune")
    .description("prune a model (magnitude, or whole MLP channels / heads) on a cubic schedule while it trains; pruned channels are dropped")
    .requiredOption("--checkpoint <path>", "the model")
    .option("--kind <k>", "magnitude | channels | heads", "channels")
    .requiredOption("--sparsity <s>", "final fraction pruned, in (0, 1)")
    .option("--data <file>", "text corpus", "../shared/data/tinyshakespeare/input.txt")
    .option("--steps <n>", "training steps (the ramp takes the first 60%)", intArg("--steps", 1, 1_000_000), 400)
    .option("--distill", "learn from the unpruned model (KD) as well as the labels")
    .requiredOption("--out <dir>", "writes model.safetensors and masks.safetensors there")
    .option("--json", "print one JSON document")
    .action(async (o: { checkpoint: string; kind: string; sparsity: string; data: string; steps: number; distill?: boolean; out: string; json?: boolean }) => {
      if (!["magnitude", "channels", "heads"].includes(o.kind)) throw new UsageError(`--kind must be magnitude, channels or heads, got ${JSON.stringify(o.kind)}`);
      const sparsity = num("--sparsity", o.sparsity, 1e-6, 0.999);
      const Mm = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const teacher = await loadModel(Mm, o.checkpoint);
      const corpus = await D.loadTextCorpus(await corpusPath(o.data));
      let model = Mm.copyGpt(teacher);
      const before = Mm.validationLoss(teacher, corpus);
      const ramp = Math.max(1, Math.floor(o.steps * 0.6));
      const r = await Mm.trainCompressed({
        model, corpus, steps: o.steps, lr: 5e-4, prune: { kind: o.kind as "channels", schedule: { final: sparsity, begin: 0, end: ramp }, every: Math.max(1, Math.floor(ramp / 10)) },
        ...(o.distill ? { distill: { teachers: [teacher] } } : {}),
      });
      writeOut(join(o.out, "masks.safetensors"), Mm.serializeMasks(r.masks!, { kind: o.kind, sparsity: String(sparsity) }));
      if (o.kind === "channels") model = Mm.dropPrunedChannels(model, Mm.structuredMasks(model, { channelSparsity: sparsity }).plan);
      writeModel(Mm, o.out, model);
      const after = Mm.validationLoss(model, corpus);
      const res = { out: o.out, kind: o.kind, sparsity, parameters_before: Mm.countParameters(teacher), parameters: Mm.countParameters(model), val_loss_before: before, val_loss: after, config: Mm.configOf(model) };
      if (o.json) printJson(res);
      else printLine(`${o.kind} pruning to ${sparsity}: ${res.parameters_before} → ${res.parameters} parameters, val loss ${before.toFixed(4)} → ${after.toFixed(4)}; wrote ${o.out}`);
    });

  program
    .command("distill")
    .description("train a (smaller) student from one or more teachers with the fused KD loss")
    .requiredOption("--teacher <path...>", "teacher model(s); several are averaged")
    .option("--data <file>", "text corpus", "../shared/data/tinyshakespeare/input.txt")
    .option("--embd <n>", "student channels (default: half the teacher's)", intArg("--embd", 1, 1 << 16))
    .option("--layers <n>", "student blocks (default: the teacher's)", intArg("--layers", 1, 1024))
    .option("--steps <n>", "training steps", intArg("--steps", 1, 1_000_000), 600)
    .option("--temperature <t>", "softmax temperature", "2")
    .option("--alpha <a>", "weight of the KL term (1 − alpha: hard labels)", "0.5")
    .option("--top-k <k>", "use only the teachers' k largest logits per position", intArg("--top-k", 1, 1 << 20))
    .requiredOption("--out <dir>", "writes model.safetensors there")
    .option("--json", "print one JSON document")
    .action(async (o: { teacher: string[]; data: string; embd?: number; layers?: number; steps: number; temperature: string; alpha: string; topK?: number; out: string; json?: boolean }) => {
      const Mm = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const teachers = await Promise.all(o.teacher.map((t) => loadModel(Mm, t)));
      const corpus = await D.loadTextCorpus(await corpusPath(o.data));
      const student = Mm.freshStudent(teachers[0]!, { ...(o.embd ? { width: o.embd } : {}), ...(o.layers ? { layers: o.layers } : {}) });
      const r = await Mm.trainCompressed({
        model: student, corpus, steps: o.steps, lr: 2e-3,
        distill: { teachers, temperature: num("--temperature", o.temperature, 1e-3, 100), alpha: num("--alpha", o.alpha, 0, 1), ...(o.topK ? { topK: o.topK } : {}) },
        onProgress: (p) => p.step % 100 === 0 && progress(`[distill] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}`),
      });
      writeModel(Mm, o.out, Mm.attachTokenizer(student, Mm.tokenizerOf(teachers[0]!)));
      const res = { out: o.out, teachers: o.teacher, student: Mm.configOf(student), parameters: Mm.countParameters(student), val_loss: r.valLoss, teacher_val_loss: Mm.validationLoss(teachers[0]!, corpus), top_k: r.topK };
      if (o.json) printJson(res);
      else printLine(`student ${student.arch} ${student.dims.hidden}x${student.dims.layers} (${res.parameters} parameters): val loss ${r.valLoss.toFixed(4)} (teacher ${res.teacher_val_loss.toFixed(4)}); wrote ${o.out}`);
    });
}
