// `troupe verify PATH [--json]`: reproduce a PyTorch reference with troupe's kernels and report
// the largest differences. PATH is
//   - a reference fixture FILE.safetensors (config in __metadata__.config): the GPT of the
//     kernels layer (forward, loss, gradients, AdamW steps), or with lora_A/lora_B tensors the
//     models layer's LoRA GPT;
//   - a Hugging Face model directory (config.json + weights + reference.safetensors): loaded by
//     its model_type, with bf16_logits when reference.bf16.safetensors is there;
//   - a PEFT adapter directory (adapter_config.json + adapter_model.safetensors +
//     reference.safetensors) on its base (base_model_name_or_path, or --base DIR).
import { existsSync, statSync } from "node:fs";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

function printDiffs(diffs: Record<string, number>, tolerances: Record<string, number>, worst?: Record<string, string>): void {
  for (const [k, v] of Object.entries(diffs)) {
    const tol = tolerances[k]!;
    printLine(`${k.padEnd(13)} max |diff| ${v.toExponential(2)}  (tolerance ${tol})  ${v <= tol ? "ok" : "FAIL"}${worst?.[k] && !(v <= tol) ? `  worst: ${worst[k]}` : ""}`);
  }
}

export function register(program: Command): void {
  program
    .command("verify")
    .description("check troupe against a PyTorch reference: a fixture file, a Hugging Face model directory or a PEFT adapter directory")
    .argument("<path>", "reference fixture (.safetensors), model directory (config.json) or adapter directory (adapter_config.json)")
    .option("--base <dir>", "adapter directories: the base model directory (default: its base_model_name_or_path)")
    .option("--json", "print one JSON document")
    .action(async (path: string, opts: { json?: boolean; base?: string }) => {
      if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
      if (statSync(path).isDirectory()) {
        const { verifyDir } = await import("../../models/mod.js");
        const report = verifyDir(path, opts.base ? { base: opts.base } : {});
        if (opts.json) printJson(report);
        else {
          printLine(`${report.kind} ${report.arch} (${report.dtypes.join(", ")})${report.base ? ` on ${report.base}` : ""}`);
          printDiffs(report.max_abs_diff, report.tolerances, report.worst);
          if (report.base_frozen !== undefined) printLine(`base frozen   ${report.base_frozen ? "ok" : "FAIL"}`);
          printLine(report.ok ? "ok" : "FAILED");
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      if (opts.base) throw new UsageError("--base applies to adapter directories");
      const { readSafetensors, verifyFixture, verifyTolerances } = await import("../../kernels/mod.js");
      const { isLoraFixture, loraVerifyTolerances, verifyLoraFixture } = await import("../../models/mod.js");
      if (isLoraFixture(readSafetensors(path).tensors.keys())) {
        const report = verifyLoraFixture(path);
        if (opts.json) printJson(report);
        else {
          printDiffs(report.max_abs_diff, loraVerifyTolerances);
          printLine(`base frozen   ${report.base_frozen ? "ok" : "FAIL"}`);
          printLine(report.ok ? "ok" : "FAILED");
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const report = verifyFixture(path);
      if (opts.json) printJson(report);
      else {
        printDiffs(report.max_abs_diff, verifyTolerances);
        printLine(report.ok ? "ok" : "FAILED");
      }
      if (!report.ok) process.exitCode = 1;
    });
}
