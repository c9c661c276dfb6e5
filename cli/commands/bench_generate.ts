// `troupe bench generate`: greedy generation in one run, two comparisons —
//   1. troupe's KV-cached `generate` vs the same call re-running the context (GPT-2 and Llama of
//      the default text size): `results`, `min_ratio`;
//   2. troupe vs llama.cpp (node-llama-cpp) decoding the same exported GGUF of the
//      tinyshakespeare model, same thread count: `troupe_tokens_per_s`, `llama_cpp_tokens_per_s`,
//      `ratio`, `same_tokens` (bench/compress/generate.ts). `--no-llama-cpp` skips the second.
import type { Command } from "commander";
import { intArg } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { commandGroup } from "./groups.js";
import { printJson, printLine, progress } from "../output.js";

interface Options {
  json?: boolean;
  tokens: number;
  rounds: number;
  llamaCpp: boolean;
  threads: number;
  type: string;
  prompts: number;
  llamaTokens: number;
  fresh?: boolean;
  baseSteps: number;
  data?: string;
  check?: boolean;
}

export function register(program: Command): void {
  commandGroup(program, "bench")
    .command("generate")
    .description("greedy generation: KV cache vs re-running the context (GPT-2 and Llama), and troupe vs llama.cpp on the same GGUF")
    .option("--json", "print one JSON document")
    .option("--tokens <n>", "new tokens per call of the cache comparison (default 300, as troupe generate)", intArg("--tokens", 1, 100_000), 300)
    .option("--rounds <n>", "rounds of each comparison, medians over all", intArg("--rounds", 1, 100), 3)
    .option("--no-llama-cpp", "skip the comparison with llama.cpp")
    .option("--threads <n>", "threads on both sides of the llama.cpp comparison (1: on a shared 2-core machine ggml's spinning barrier collapses when cores are oversubscribed)", intArg("--threads", 1, 64), 1)
    .option("--type <t>", "GGUF type both sides run (f32, f16, q8_0, q4_0)", "f32")
    .option("--prompts <n>", "held-out prompts of 16 tokens (llama.cpp comparison)", intArg("--prompts", 1, 100), 4)
    .option("--llama-tokens <n>", "new tokens per prompt in the llama.cpp comparison (at most block - 16)", intArg("--llama-tokens", 1, 100_000), 112)
    .option("--fresh", "train the tinyshakespeare base again instead of using the cached one")
    .option("--base-steps <n>", "training steps of the tinyshakespeare base", intArg("--base-steps", 1, 1_000_000), 2000)
    .option("--data <file>", "the text corpus (default ../shared/data/tinyshakespeare/input.txt)")
    .option("--check", "exit 1 unless same_tokens and the cached tokens equal the uncached ones inside the context")
    .action(async (o: Options) => {
      if (!["f32", "f16", "q8_0", "q4_0"].includes(o.type)) throw new UsageError(`--type must be one of f32, f16, q8_0, q4_0, got ${JSON.stringify(o.type)}`);
      const { runGenerateBench } = await import("../../bench/generate.js");
      progress(`[bench] generate: ${o.rounds} rounds of ${o.tokens} tokens, uncached and cached, gpt2 and llama ...`);
      const cache = runGenerateBench({ tokens: o.tokens, rounds: o.rounds });
      let peer: Record<string, unknown> = {};
      let same = true;
      if (o.llamaCpp) {
        const { runGenerateBench: vsLlamaCpp } = await import("../../bench/compress/mod.js");
        const r = await vsLlamaCpp({
          steps: o.baseSteps, fresh: !!o.fresh, threads: o.threads, type: o.type as "f32", prompts: o.prompts, tokens: o.llamaTokens, rounds: o.rounds, say: progress,
          ...(o.data ? { data: o.data } : {}),
        });
        const { settings, ...head } = r;
        peer = { ...head, llama_cpp_settings: settings };
        same = r.same_tokens;
      }
      const doc = { ...peer, ...cache };
      if (o.json) printJson(doc);
      else {
        for (const x of cache.results) {
          printLine(`${x.arch.padEnd(6)} cached ${x.cached_tokens_per_s} tokens/s, uncached ${x.uncached_tokens_per_s}: ratio ${x.ratio} (same tokens inside the context: ${x.equal_within_context})`);
        }
        if (o.llamaCpp) printLine(`vs llama.cpp (${o.type}, ${o.threads} threads): troupe ${String(peer.troupe_tokens_per_s)} tokens/s, llama.cpp ${String(peer.llama_cpp_tokens_per_s)}: ratio ${String(peer.ratio)}; same tokens: ${same}`);
      }
      if (o.check && (!same || cache.results.some((x) => !x.equal_within_context))) process.exitCode = ExitCode.failure;
    });
}
