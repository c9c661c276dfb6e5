// `troupe generate --checkpoint DIR|FILE --prompt TEXT [--tokens N] [--temperature T] [--top-k K] [--seed S]`:
// sample a continuation from a trained model (a checkpoint, stage or run directory, or a
// model.safetensors written by troupe). --adapter FILE puts a saved adapter on it first. The
// model's own tokenizer (bytes, or the tokenizer.json its checkpoint carries) encodes and decodes;
// --chat uses its chat template (tokenizer_config.json's, else Q:/A:) and stops at its end token.
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface Flags {
  checkpoint?: string;
  run?: string;
  runs: string;
  prompt: string;
  tokens: number;
  temperature: string;
  topK?: number;
  seed: number;
  adapter?: string;
  chat?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("sample text from a trained model")
    .option("--checkpoint <path>", "checkpoint, stage or run directory, or a model.safetensors")
    .option("--run <id>", "the model a run kept: runs/<id>/ (troupe run, troupe train, troupe artifacts pull)")
    .option("--runs <dir>", "where runs are", "runs")
    .requiredOption("--prompt <text>", "text to continue")
    .option("--tokens <n>", "new tokens", intArg("--tokens", 0, 1_000_000), 300)
    .option("--temperature <t>", "sampling temperature (0: greedy)", "0.8")
    .option("--top-k <k>", "sample among the k most likely tokens", intArg("--top-k", 1, 1 << 20))
    .option("--seed <n>", "sampling seed", intArg("--seed", 0, 0xffffffff), 0)
    .option("--adapter <file>", "an adapter.safetensors to put on the model")
    .option("--chat", "wrap the prompt in the model's chat template (Q: …\\nA: unless its tokenizer has one) and stop at its end token")
    .option("--json", "print one JSON document")
    .action(async (flags: Flags) => {
      const temperature = Number(flags.temperature);
      if (!Number.isFinite(temperature) || temperature < 0) throw new UsageError(`--temperature must be a number >= 0, got ${JSON.stringify(flags.temperature)}`);
      const M = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const { loadAdapterArg, loadModelArg, modelPathOrRun, resolveRunId } = await import("../models.js");
      if (!flags.checkpoint === !flags.run) throw new UsageError("give the model with --checkpoint PATH or --run ID (one of them)");
      const path = flags.run ? resolveRunId(`--run ${flags.run}`, flags.run, flags.runs) : modelPathOrRun(`--checkpoint ${flags.checkpoint}`, flags.checkpoint!, flags.runs);
      const { model, source } = await loadModelArg(flags.run ? `--run ${flags.run}` : `--checkpoint ${flags.checkpoint}`, path);
      if (flags.adapter) await loadAdapterArg(`--adapter ${flags.adapter}`, model, flags.adapter);
      const tok = M.tokenizerOf(model);
      const template = D.templateFor(tok);
      const prompt = flags.chat ? template.encodePrompt(flags.prompt) : tok.encode(flags.prompt);
      const t0 = performance.now();
      const out = M.generate(model, prompt, {
        maxTokens: flags.tokens, temperature, seed: flags.seed,
        ...(flags.topK !== undefined ? { topK: flags.topK } : {}),
        ...(flags.chat ? { stopToken: tok.eot } : {}),
      });
      const ms = performance.now() - t0;
      const text = flags.chat ? template.decodeResponse(out) : tok.decode(out);
      if (flags.json) printJson({ checkpoint: source, tokenizer: D.tokenizerId(tok.spec), prompt: flags.prompt, text, tokens: out.length, tokens_per_s: Math.round((out.length / ms) * 1000) });
      else printLine(flags.chat ? text : flags.prompt + text);
    });
}
