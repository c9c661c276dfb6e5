// `troupe bench quant | distill` (and the llama.cpp half of `bench generate`, bench_generate.ts): the compression pipeline's numbers on the
// tinyshakespeare model, each against its peer in the same run (the f32 checkpoint, a student
// on hard labels, llama.cpp on the same GGUF file).
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { intArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

interface Common {
  json?: boolean;
  fresh?: boolean;
  baseSteps: number;
  data?: string;
  check?: boolean;
}

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("quant")
    .description("tinyshakespeare val loss at f32, Q8_0/Q4_0 post-training, Q4_0 QAT and ternary (1.58-bit) QAT, from one f32 checkpoint")
    .option("--json", "print one JSON document")
    .option("--fresh", "train the base again instead of using the cached one")
    .option("--base-steps <n>", "training steps of the f32 base", intArg("--base-steps", 1, 1_000_000), 2000)
    .option("--qat-steps <n>", "fine-tuning steps of QAT at 4 bits (and of the f32 control)", intArg("--qat-steps", 1, 1_000_000), 300)
    .option("--ternary-steps <n>", "steps of ternary QAT", intArg("--ternary-steps", 1, 1_000_000), 600)
    .option("--data <file>", "the text corpus (default ../shared/data/tinyshakespeare/input.txt)")
    .option("--check", "exit 1 unless every target holds")
    .action(async (o: Common & { qatSteps: number; ternarySteps: number }) => {
      const { runQuantBench } = await import("../../bench/compress/mod.js");
      const r = await runQuantBench({ steps: o.baseSteps, fresh: !!o.fresh, qatSteps: o.qatSteps, ternarySteps: o.ternarySteps, say: progress, ...(o.data ? { data: o.data } : {}) });
      if (o.json) printJson(r);
      else {
        printLine(`val loss: f32 ${r.f32}, ptq8 ${r.ptq8} (${(r.relative.ptq8 * 100).toFixed(2)}%), ptq4 ${r.ptq4} (${(r.relative.ptq4 * 100).toFixed(2)}%), qat4 ${r.qat4} (${(r.relative.qat4 * 100).toFixed(2)}%), ternary ${r.ternary} (${(r.relative.ternary * 100).toFixed(1)}%)`);
        printLine(`control: f32 fine-tuned ${r.settings.qat_steps} steps ${r.f32_finetuned}`);
        printLine(`targets: ${Object.entries(r.targets).map(([k, v]) => `${k} ${v ? "ok" : "MISSED"}`).join(", ")}`);
      }
      if (o.check && Object.values(r.targets).some((v) => !v)) process.exitCode = ExitCode.failure;
    });
  bench
    .command("distill")
    .description("a half-width student distilled from the tinyshakespeare model vs the same student on hard labels, same steps")
    .option("--json", "print one JSON document")
    .option("--fresh", "train the base again instead of using the cached one")
    .option("--base-steps <n>", "training steps of the f32 teacher", intArg("--base-steps", 1, 1_000_000), 2000)
    .option("--steps <n>", "student steps (each)", intArg("--steps", 1, 1_000_000), 600)
    .option("--temperature <t>", "KD temperature", "1")
    .option("--alpha <a>", "KD weight of the KL term", "0.5")
    .option("--top-k <k>", "use only the teacher's k largest logits per position", intArg("--top-k", 1, 1 << 20))
    .option("--data <file>", "the text corpus (default ../shared/data/tinyshakespeare/input.txt)")
    .option("--check", "exit 1 unless the distilled student wins")
    .action(async (o: Common & { steps: number; temperature: string; alpha: string; topK?: number }) => {
      const { runDistillBench } = await import("../../bench/compress/mod.js");
      const r = await runDistillBench({
        steps: o.baseSteps, fresh: !!o.fresh, studentSteps: o.steps, temperature: Number(o.temperature), alpha: Number(o.alpha), say: progress,
        ...(o.topK ? { topK: o.topK } : {}), ...(o.data ? { data: o.data } : {}),
      });
      if (o.json) printJson(r);
      else printLine(`student ${r.settings.student.nEmbd} channels, ${r.settings.steps} steps: hard labels ${r.hard_labels_val_loss}, distilled ${r.distilled_val_loss} (teacher ${r.teacher_val_loss}): ${r.kd_beats_hard_labels ? "KD wins" : "KD LOSES"} by ${r.gain}`);
      if (o.check && !r.kd_beats_hard_labels) process.exitCode = ExitCode.failure;
    });
}
