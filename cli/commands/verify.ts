// `troupe verify FILE.safetensors [--json]`: reproduce a PyTorch reference fixture with troupe's
// kernels (forward, loss, gradients, AdamW steps) and report the largest differences. A fixture
// with lora_A/lora_B tensors is reproduced through the models layer's LoRA GPT instead (logits,
// loss, LoRA gradients, base frozen).
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

export function register(program: Command): void {
  program
    .command("verify")
    .description("check the kernels against a PyTorch reference fixture (e.g. ../shared/fixtures/gpt_reference.safetensors)")
    .argument("<file>", "reference fixture (.safetensors with __metadata__.config)")
    .option("--json", "print one JSON document")
    .action(async (file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      const { readSafetensors, verifyFixture, verifyTolerances } = await import("../../kernels/mod.js");
      const { isLoraFixture, loraVerifyTolerances, verifyLoraFixture } = await import("../../models/mod.js");
      if (isLoraFixture(readSafetensors(file).tensors.keys())) {
        const report = verifyLoraFixture(file);
        if (opts.json) printJson(report);
        else {
          for (const [k, v] of Object.entries(report.max_abs_diff)) {
            const tol = loraVerifyTolerances[k as keyof typeof loraVerifyTolerances];
            printLine(`${k.padEnd(13)} max |diff| ${v.toExponential(2)}  (tolerance ${tol})  ${v <= tol ? "ok" : "FAIL"}`);
          }
          printLine(`base frozen   ${report.base_frozen ? "ok" : "FAIL"}`);
          printLine(report.ok ? "ok" : "FAILED");
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const report = verifyFixture(file);
      if (opts.json) {
        printJson(report);
      } else {
        for (const [k, v] of Object.entries(report.max_abs_diff)) {
          const tol = verifyTolerances[k as keyof typeof verifyTolerances];
          printLine(`${k.padEnd(13)} max |diff| ${v.toExponential(2)}  (tolerance ${tol})  ${v <= tol ? "ok" : "FAIL"}`);
        }
        printLine(report.ok ? "ok" : "FAILED");
      }
      if (!report.ok) process.exitCode = 1;
    });
}
