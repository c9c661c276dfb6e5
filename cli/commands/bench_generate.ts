// `troupe bench generate`: generate with the KV cache vs without it, same run, both architectures.
import type { Command } from "commander";
import { intArg } from "../args.js";
import { commandGroup } from "./groups.js";
import { printJson, printLine, progress } from "../output.js";

export function register(program: Command): void {
  commandGroup(program, "bench")
    .command("generate")
    .description("tokens/s of generate with the KV cache vs re-running the context (the uncached path), GPT-2 and Llama of the default text size")
    .option("--json", "print one JSON document")
    .option("--tokens <n>", "new tokens per call (default 300, as troupe generate)", intArg("--tokens", 1, 100_000), 300)
    .option("--rounds <n>", "rounds of (uncached, cached), medians over all", intArg("--rounds", 1, 100), 3)
    .action(async (opts: { json?: boolean; tokens: number; rounds: number }) => {
      const { runGenerateBench } = await import("../../bench/generate.js");
      progress(`[bench] generate: ${opts.rounds} rounds of ${opts.tokens} tokens, uncached and cached, gpt2 and llama ...`);
      const r = runGenerateBench({ tokens: opts.tokens, rounds: opts.rounds });
      if (opts.json) return printJson(r);
      for (const x of r.results) {
        printLine(`${x.arch.padEnd(6)} cached ${x.cached_tokens_per_s} tokens/s, uncached ${x.uncached_tokens_per_s}: ratio ${x.ratio} (same tokens inside the context: ${x.equal_within_context})`);
      }
    });
}
