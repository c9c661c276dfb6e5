// `troupe model init | info | fuse`: Hugging Face model directories from the command line.
//   model init --arch llama --config '{"hidden_size":512,...}'|FILE.json --out DIR [--seed N]
//       a fresh model of that size (config.json keys of the architecture; unset ones take the
//       transformers defaults), written as a model directory to train with --model DIR
//   model info DIR [--json]                 architecture, sizes, parameters, weight dtypes
//   model fuse --model DIR --adapter DIR --out DIR   merge a PEFT adapter into its base
import { existsSync, readFileSync } from "node:fs";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

function configArg(raw: string): Record<string, unknown> {
  let text = raw;
  if (!raw.trim().startsWith("{")) {
    if (!existsSync(raw)) throw new UsageError(`--config: not JSON and no such file: ${raw}`);
    text = readFileSync(raw, "utf8");
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--config must be a JSON object of config.json keys: ${(err as Error).message}`);
  }
}

export function register(program: Command): void {
  const model = program.command("model").description("make, inspect and fuse Hugging Face model directories");
  model
    .command("init")
    .description("write a fresh model of a given architecture and size as a Hugging Face directory")
    .requiredOption("--arch <name>", "the model_type (gpt2, llama)")
    .requiredOption("--config <json|file>", "config.json keys, e.g. '{\"vocab_size\":256,\"hidden_size\":512,\"intermediate_size\":1408,\"num_attention_heads\":8,\"num_key_value_heads\":4,\"num_hidden_layers\":8,\"max_position_embeddings\":256}'")
    .requiredOption("--out <dir>", "where to write it")
    .option("--seed <n>", "seed of the weights", intArg("--seed", 0, 0xffffffff), 0)
    .option("--json", "print one JSON document")
    .action(async (opts: { arch: string; config: string; out: string; seed: number; json?: boolean }) => {
      const M = await import("../../models/mod.js");
      if (!M.architectureNames().includes(opts.arch)) throw new UsageError(`--arch must be one of ${M.architectureNames().join(", ")}, got ${JSON.stringify(opts.arch)}`);
      const arch = M.architecture(opts.arch);
      const config = arch.fromHf({ ...configArg(opts.config), model_type: opts.arch }, "--config");
      const m = M.createModel(opts.arch, config, opts.seed);
      const saved = M.saveHfModel(m, opts.out);
      const r = { dir: opts.out, arch: opts.arch, parameters: M.countParameters(m), dims: m.dims, files: saved.files, bytes: saved.bytes };
      if (opts.json) printJson(r);
      else printLine(`${opts.arch} with ${r.parameters} parameters written to ${opts.out}`);
    });
  model
    .command("info")
    .description("architecture, sizes, parameter count and weight dtypes of a model directory")
    .argument("<dir>", "a Hugging Face model directory")
    .option("--json", "print one JSON document")
    .action(async (dir: string, opts: { json?: boolean }) => {
      const M = await import("../../models/mod.js");
      const h = M.loadHfModel(dir);
      const r = { dir, arch: h.arch.name, dims: h.model.dims, parameters: M.countParameters(h.model), dtypes: h.dtypes, files: h.files };
      if (opts.json) printJson(r);
      else printLine(`${r.arch}: ${r.parameters} parameters, ${JSON.stringify(r.dims)}, weights ${r.dtypes.join(", ")}`);
    });
  model
    .command("fuse")
    .description("merge a PEFT adapter into its base and write the result as a model directory")
    .requiredOption("--model <dir>", "the base model directory")
    .requiredOption("--adapter <dir>", "the PEFT adapter directory")
    .requiredOption("--out <dir>", "where to write the fused model")
    .option("--json", "print one JSON document")
    .action(async (opts: { model: string; adapter: string; out: string; json?: boolean }) => {
      const M = await import("../../models/mod.js");
      const { model: m } = M.loadHfModel(opts.model);
      M.loadPeftAdapter(m, opts.adapter);
      const fused = M.mergeAdapters(m);
      const saved = M.saveHfModel(m, opts.out);
      const r = { dir: opts.out, fused_layers: fused.length, files: saved.files };
      if (opts.json) printJson(r);
      else printLine(`fused ${fused.length} layers into ${opts.out}`);
    });
}
