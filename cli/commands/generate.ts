// `troupe generate --checkpoint DIR|FILE | --model DIR | --run ID --prompt TEXT [--tokens N]
//   [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--stop S]… [--num-samples N] [--seed S]`:
// sample continuations from a model (a checkpoint, stage or run directory, a model.safetensors
// written by troupe, a Hugging Face model directory, or the model a run kept under runs/<id>/).
// --adapter puts an adapter on it first: a troupe adapter.safetensors or a PEFT adapter
// directory. Decoding uses the KV cache (--no-cache re-runs the context for every token). The
// model's own tokenizer encodes and decodes; --chat uses its chat template and stops at its end
// token. Text streams to stdout as it is made (not with --json); every sample is seeded (sample
// i uses --seed + i), so the same command gives the same text. A byte-level model whose
// vocabulary cannot hold bytes takes --prompt-ids.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageCode, UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface Flags {
  checkpoint?: string;
  model?: string;
  run?: string;
  runs: string;
  prompt?: string;
  promptIds?: string;
  tokens: number;
  temperature: string;
  topK?: number;
  topP?: string;
  repetitionPenalty?: string;
  stop: string[];
  numSamples: number;
  seed: number;
  adapter?: string;
  chat?: boolean;
  cache: boolean;
  json?: boolean;
}

function numberFlag(name: string, v: string | undefined, ok: (x: number) => boolean, want: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`${name} must be ${want}, got ${JSON.stringify(v)}`, { code: UsageCode.badValue });
  return x;
}

export function register(program: Command): void {
  program
    .command("generate")
    .description("sample continuations from a model (KV-cached decoding, streamed)")
    .option("--checkpoint <path>", "checkpoint, stage or run directory, or a model.safetensors")
    .option("--model <dir>", "a Hugging Face model directory (config.json + safetensors)")
    .option("--run <id>", "the model a run kept: runs/<id>/ (troupe run, troupe train, troupe artifacts pull)")
    .option("--runs <dir>", "where runs are", "runs")
    .option("--prompt <text>", "text to continue")
    .option("--prompt-ids <ids>", "token ids to continue, comma-separated (models whose vocabulary is not bytes)")
    .option("--tokens <n>", "new tokens at most", intArg("--tokens", 0, 1_000_000), 300)
    .option("--temperature <t>", "sampling temperature (0: greedy)", "0.8")
    .option("--top-k <k>", "sample among the k most likely tokens", intArg("--top-k", 1, 1 << 20))
    .option("--top-p <p>", "sample among the most likely tokens whose probability reaches p (nucleus, 0 < p ≤ 1)")
    .option("--repetition-penalty <r>", "> 1 makes tokens already in the prompt or output less likely (1: off)")
    .option("--stop <text>", "stop when the output contains this text (repeatable; the text is cut before it)", (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--num-samples <n>", "independent samples (sample i is seeded with --seed + i)", intArg("--num-samples", 1, 1000), 1)
    .option("--seed <n>", "sampling seed", intArg("--seed", 0, 0xffffffff), 0)
    .option("--adapter <path>", "an adapter to put on the model: a troupe adapter.safetensors or a PEFT adapter directory")
    .option("--chat", "wrap the prompt in the model's chat template (Q: …\\nA: unless its tokenizer has one) and stop at its end token")
    .option("--no-cache", "re-run the whole context for every token (no KV cache)")
    .option("--json", "print one JSON document (no streaming)")
    .action(async (flags: Flags) => {
      const temperature = numberFlag("--temperature", flags.temperature, (x) => x >= 0, "a number >= 0")!;
      const topP = numberFlag("--top-p", flags.topP, (x) => x > 0 && x <= 1, "a number in (0, 1]");
      const repetitionPenalty = numberFlag("--repetition-penalty", flags.repetitionPenalty, (x) => x > 0, "a number > 0");
      const given = [flags.checkpoint, flags.model, flags.run].filter((x) => x !== undefined).length;
      if (given !== 1) throw new UsageError("give the model with --checkpoint PATH, --model DIR or --run ID (one of them)");
      if ((flags.prompt === undefined) === (flags.promptIds === undefined)) throw new UsageError("give --prompt TEXT or --prompt-ids IDS (one of them)");
      const M = await import("../../models/mod.js");
      const D = await import("../../data/mod.js");
      const { loadAdapterArg, loadModelArg, modelPathOrRun, resolveRunId } = await import("../models.js");
      const label = flags.run ? `--run ${flags.run}` : flags.model ? `--model ${flags.model}` : `--checkpoint ${flags.checkpoint}`;
      const path = flags.run ? resolveRunId(label, flags.run, flags.runs) : flags.model ?? modelPathOrRun(label, flags.checkpoint!, flags.runs);
      const { model, source } = await loadModelArg(label, path);
      if (flags.adapter) {
        // a PEFT adapter directory (adapter_config.json), else a troupe adapter file
        if (statSync(flags.adapter, { throwIfNoEntry: false })?.isDirectory() && existsSync(join(flags.adapter, "adapter_config.json"))) M.loadPeftAdapter(model, flags.adapter);
        else await loadAdapterArg(`--adapter ${flags.adapter}`, model, flags.adapter);
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
      const ids = flags.promptIds !== undefined;
      const decode = (out: readonly number[]) => (flags.chat ? template.decodeResponse(Int32Array.from(out)) : tok.decode(Int32Array.from(out)));
      const stream = !flags.json;
      const samples: { text: string; ids: number[]; tokens: number; stopped_by: string | null; tokens_per_s: number }[] = [];
      for (let i = 0; i < flags.numSamples; i++) {
        if (stream) {
          if (flags.numSamples > 1) process.stdout.write(`${i > 0 ? "\n" : ""}--- sample ${i + 1} of ${flags.numSamples} (seed ${flags.seed + i})\n`);
          if (!flags.chat && !ids) process.stdout.write(flags.prompt!);
        }
        let shown = "";
        let stoppedBy: string | null = null;
        let text = "";
        const t0 = performance.now();
        const out = M.generate(model, prompt, {
          maxTokens: flags.tokens, temperature, seed: flags.seed + i, cache: flags.cache,
          ...(flags.topK !== undefined ? { topK: flags.topK } : {}),
          ...(topP !== undefined ? { topP } : {}),
          ...(repetitionPenalty !== undefined ? { repetitionPenalty } : {}),
          ...(flags.chat ? { stopToken: tok.eot } : {}),
          onToken: (_t, all) => {
            if (ids) {
              if (stream) process.stdout.write(`${all.length > 1 ? "," : ""}${all[all.length - 1]}`);
              return;
            }
            text = decode(all);
            const hit = flags.stop.map((s) => ({ s, at: text.indexOf(s) })).filter((h) => h.at >= 0).sort((a, b) => a.at - b.at)[0];
            if (hit) {
              stoppedBy = hit.s;
              text = text.slice(0, hit.at);
            }
            // stream what is settled: not a partial character, not what may be the start of a stop string
            const holdBack = hit ? 0 : Math.max(0, ...flags.stop.map((s) => s.length - 1));
            let settled = text.slice(0, Math.max(shown.length, text.length - holdBack));
            if (settled.endsWith("\uFFFD")) settled = settled.slice(0, -1);
            if (stream && settled.length > shown.length && settled.startsWith(shown)) {
              process.stdout.write(settled.slice(shown.length));
              shown = settled;
            }
            return hit !== undefined;
          },
        });
        const ms = performance.now() - t0;
        if (!ids) {
          if (!stoppedBy) text = decode([...out]);
          if (stream && text.startsWith(shown)) process.stdout.write(text.slice(shown.length));
        }
        samples.push({ text, ids: [...out], tokens: out.length, stopped_by: stoppedBy ?? (flags.chat && out[out.length - 1] === tok.eot ? "end_token" : null), tokens_per_s: Math.round((out.length / Math.max(ms, 1e-3)) * 1000) });
      }
      if (stream) {
        printLine("");
        return;
      }
      const first = samples[0]!;
      const base = { checkpoint: source, tokenizer: D.tokenizerId(tok.spec), seed: flags.seed };
      if (ids) printJson({ ...base, prompt_ids: [...prompt], ids: first.ids, tokens: first.tokens, tokens_per_s: first.tokens_per_s, samples: samples.map(({ text: _t, ...s }) => s) });
      else printJson({ ...base, prompt: flags.prompt, text: first.text, tokens: first.tokens, tokens_per_s: first.tokens_per_s, samples: samples.map(({ ids: _i, ...s }) => s) });
    });
}
