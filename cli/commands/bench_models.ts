// troupe bench qlora: QLoRA (4-bit or 8-bit base) against LoRA on the f32 base, each side in its
// own process: peak RSS on a >= 200M Llama, validation loss and tokens/s on a >= 30M Llama
// that the bench pretrains itself (cached).
// troupe bench bpe: a Llama with a BPE tokenizer against the byte-level GPT, the same wall-clock
// budget each, validation loss in bits per byte side by side.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";
import { commandGroup } from "./groups.js";

const shakespeare = fileURLToPath(new URL("../../../../shared/data/tinyshakespeare/input.txt", import.meta.url));

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("qlora")
    .description("QLoRA (base Linear layers in 4-bit blocks) vs LoRA on the f32 base: peak RSS on a 212M Llama (3 steps), validation loss and speed adapting a 31.7M Llama the bench pretrains itself (cached; 300 steps of 2 × 64 tinyshakespeare bytes); each side in its own process")
    .option("--json", "print one JSON document")
    .option("--data <file>", "the text for the quality part (default ../shared/data/tinyshakespeare/input.txt)")
    .option("--bits <n>", "4 (default) or 8", intArg("--bits", 4, 8))
    .option("--steps <n>", "quality steps per side (default 300)", intArg("--steps", 2, 100_000))
    .option("--memory-steps <n>", "memory steps per side (default 3)", intArg("--memory-steps", 2, 1000))
    .option("--pretrain-steps <n>", "full-parameter steps of the quality part's base (default 200)", intArg("--pretrain-steps", 1, 1_000_000))
    .option("--fresh", "pretrain the base again instead of using the cached one")
    .action(async (opts: { json?: boolean; data?: string; bits?: number; steps?: number; memorySteps?: number; pretrainSteps?: number; fresh?: boolean }) => {
      const data = opts.data ?? shakespeare;
      if (!existsSync(data)) throw new UsageError(`--data: no such file: ${data}`);
      if (opts.bits !== undefined && opts.bits !== 4 && opts.bits !== 8) throw new UsageError(`--bits must be 4 or 8, got ${opts.bits}`);
      const { runQloraBench } = await import("../../bench/qlora/mod.js");
      const r = runQloraBench({
        data, bits: (opts.bits ?? 4) as 4 | 8, onProgress: progress,
        ...(opts.steps ? { qualitySteps: opts.steps } : {}), ...(opts.memorySteps ? { memorySteps: opts.memorySteps } : {}),
        ...(opts.pretrainSteps ? { pretrainSteps: opts.pretrainSteps } : {}), ...(opts.fresh ? { fresh: true } : {}),
      });
      if (opts.json) return printJson(r);
      const m = r.memory, q = r.quality;
      printLine(`memory  (${m.params} params, ${m.steps} steps): LoRA peak RSS ${m.lora_peak_rss_mb} MB, QLoRA ${m.qlora_peak_rss_mb} MB: ratio ${m.rss_ratio} (target <= 0.4)`);
      for (const [name, b] of [["LoRA", m.lora_rss_mb], ["QLoRA", m.qlora_rss_mb]] as const) {
        printLine(`  ${name} peak: start ${b.start} + base ${b.base} + adapters ${b.adapters} + workspace ${b.workspace} + other ${b.other} MB`);
      }
      printLine(`base (${q.params} params, pretrained ${q.base.pretrain_steps} steps${q.base.cached ? ", from the cache" : ` in ${q.base.pretrain_s} s`}): val loss ${q.base_val_loss} f32, ${q.qbase_val_loss} quantised (unigram ${q.unigram_val_loss})`);
      printLine(`quality (${q.steps} steps): val loss LoRA ${q.lora_val_loss}, QLoRA ${q.qlora_val_loss}: ratio ${q.val_loss_ratio} (target <= 1.02); LoRA with another batch order ${q.lora_reseeded_val_loss} (${q.noise_ratio})`);
      printLine(`speed: LoRA ${q.lora_tokens_per_s} tok/s, QLoRA ${q.qlora_tokens_per_s} tok/s: ratio ${q.speed_ratio} (target >= 0.7)`);
    });

  bench
    .command("bpe")
    .description("a Llama with a BPE tokenizer vs the byte-level GPT, trained from scratch for the same wall-clock budget on tinyshakespeare: validation bits per byte side by side")
    .option("--json", "print one JSON document")
    .option("--data <file>", "the text (default ../shared/data/tinyshakespeare/input.txt)")
    .option("--seconds <s>", "training wall clock per side (default 120)", intArg("--seconds", 1, 86_400))
    .option("--vocab <n>", "BPE vocabulary (default 1024)", intArg("--vocab", 257, 65_536))
    .action(async (opts: { json?: boolean; data?: string; seconds?: number; vocab?: number }) => {
      const data = opts.data ?? shakespeare;
      if (!existsSync(data)) throw new UsageError(`--data: no such file: ${data}`);
      const { runBpeBench } = await import("../../bench/bpe/mod.js");
      const r = await runBpeBench({ data, onProgress: progress, ...(opts.seconds ? { seconds: opts.seconds } : {}), ...(opts.vocab ? { vocab: opts.vocab } : {}) });
      if (opts.json) return printJson(r);
      for (const s of [r.gpt_bytes, r.llama_bpe]) {
        printLine(`${`${s.arch} ${s.tokenizer}`.padEnd(16)} ${s.params} params, ${s.steps} steps in ${s.wall_s} s (${s.tokens_per_s} tok/s, ${s.bytes_per_token} bytes/token): val ${s.val_bpb} bits/byte`);
      }
      printLine(`same ${r.budget_s} s budget: BPE Llama / byte GPT = ${r.bpb_ratio} (${r.llama_lower ? "the Llama is lower" : "the Llama is NOT lower"})`);
    });
}
