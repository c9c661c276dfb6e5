// `troupe generate --checkpoint DIR|FILE | --model DIR --prompt TEXT [--tokens N] [--temperature T] [--top-k K] [--seed S]`:
// sample a continuation from a model (a checkpoint, stage or run directory, a model.safetensors
// written by troupe, or a Hugging Face model directory). --adapter puts an adapter on it first:
// a troupe adapter.safetensors or a PEFT adapter directory. Decoding uses the KV cache
// (--no-cache re-runs the context for every token, as before it existed). The model's own
// tokenizer (bytes, or the tokenizer.json its checkpoint or model directory carries) encodes and
// decodes; --chat uses its chat template (tokenizer_config.json's, else Q:/A:) and stops at its
// end token. A byte-level model whose vocabulary cannot hold bytes takes --prompt-ids.
import { statSync } from "node:fs";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface Flags {
  checkpoint?: string;
  model?: string;
  prompt?: string;
  promptIds?: string;
  tokens: number;
  temperature: string;
  topK?: number;
  seed: number;
  adapter?: string;
  chat?: boolean;
  cache: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("sample a continuation from a model (KV-cached decoding)")
    .option("--checkpoint <path>", "checkpoint, stage or run directory, or a model.safetensors")
    .option("--model <dir>", "a Hugging Face model directory (config.json + safetensors)")
    .option("--prompt <text>", "text to continue")
    .option("--prompt-ids <ids>", "token ids to continue, comma-separated (models whose vocabulary is not bytes)")
    .option("--tokens <n>", "new tokens", intArg("--tokens", 0, 1_000_000), 300)
    .option("--temperature <t>", "sampling temperature (0: greedy)", "0.8")
    .option("--top-k <k>", "sample among the k most likely tokens", intArg("--top-k", 1, 1 << 20))
    .option("--seed <n>", "sampling seed", intArg("--seed", 0, 0xffffffff), 0)
    .option("--adapter <path>", "an adapter to put on the model: a troupe adapter.safetensors or a PEFT adapter directory")
    .option("--chat", "wrap the prompt in the model's chat template (Q: …\\nA: unless its tokenizer has one) and stop at its end token")
    .option("--no-cache", "re-run the whole context for every token (no KV cache)")
    .option("--json", "print one JSON document")
    .action(async (flags: Flags) => {
      const temperature = Number(flags.temperature);
      if (!Number.isFinite(temperature) || temperature < 0) throw new UsageError(`--temperature must be a number >= 0, got ${JSON.stringify(flags.temperature)}`);
      if ((flags.checkpoint === undefined) === (flags.model === undefined)) throw new UsageError("give the model with --checkpoint PATH or --model DIR (one of them)");
      if ((flags.prompt === undefined) === (flags.promptIds === undefined)) throw new UsageError("give --prompt TEXT or --prompt-ids IDS (one of them)");
      const M = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const { model, source } = await M.loadModelFile((flags.checkpoint ?? flags.model)!);
      if (flags.adapter) {
        if (statSync(flags.adapter, { throwIfNoEntry: false })?.isDirectory()) M.loadPeftAdapter(model, flags.adapter);
        else await M.loadAdapter(model, flags.adapter);
      }
      const V = model.dims.vocabSize;
      const tok = M.tokenizerOf(model);
      const template = D.templateFor(tok);
      let prompt: Int32Array;
      if (flags.promptIds !== undefined) {
        const ids = flags.promptIds.split(",").map((s) => Number(s.trim()));
        if (ids.length === 0 || !ids.every((i) => Number.isInteger(i) && i >= 0 && i < V)) throw new UsageError(`--prompt-ids must be comma-separated integers in [0, ${V}), got ${JSON.stringify(flags.promptIds)}`);
        prompt = Int32Array.from(ids);
      } else {
        if (tok.spec === "bytes" && V < 256) throw new UsageError(`this model's vocabulary has ${V} entries; troupe's byte tokenizer needs 256 (give --prompt-ids, or a model directory with a tokenizer.json)`);
        prompt = flags.chat ? template.encodePrompt(flags.prompt!) : tok.encode(flags.prompt!);
      }
      const t0 = performance.now();
      const out = M.generate(model, prompt, {
        maxTokens: flags.tokens, temperature, seed: flags.seed, cache: flags.cache,
        ...(flags.topK !== undefined ? { topK: flags.topK } : {}),
        ...(flags.chat ? { stopToken: tok.eot } : {}),
      });
      const ms = performance.now() - t0;
      const tokens_per_s = Math.round((out.length / ms) * 1000);
      if (flags.promptIds !== undefined) {
        if (flags.json) printJson({ checkpoint: source, tokenizer: D.tokenizerId(tok.spec), prompt_ids: [...prompt], ids: [...out], tokens: out.length, tokens_per_s });
        else printLine([...out].join(","));
        return;
      }
      const text = flags.chat ? template.decodeResponse(out) : tok.decode(out);
      if (flags.json) printJson({ checkpoint: source, tokenizer: D.tokenizerId(tok.spec), prompt: flags.prompt, text, tokens: out.length, tokens_per_s });
      else printLine(flags.chat ? text : flags.prompt + text);
    });
}
