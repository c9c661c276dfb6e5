// `troupe verify PATH [--json]`: reproduce a PyTorch reference with troupe's kernels and compare
// every tensor with its bound. PATH is
//   - a reference fixture FILE.safetensors (config in __metadata__.config): the GPT of the
//     kernels layer (forward, loss, gradients, AdamW steps), or with lora_A/lora_B tensors the
//     models layer's LoRA GPT (logits, loss, LoRA gradients, base frozen);
//   - a Hugging Face model directory (config.json + weights + reference.safetensors): loaded by
//     its model_type, with bf16_logits when reference.bf16.safetensors is there;
//   - a PEFT adapter directory (adapter_config.json + adapter_model.safetensors +
//     reference.safetensors) on its base (base_model_name_or_path, or --base DIR).
// `troupe verify --sweep [--seeds 1-50] [--sizes shared,odd,large]`: PyTorch writes a fixture per
// seed and size (scripts/dev/make_gpt_fixture.py) and each is verified; prints the worst ratio of
// difference to bound of every check over all of them. Exit 1 when any fixture fails.
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";
import type { CheckSummary, SweepReport, VerifyReport } from "../../kernels/mod.js";

const generator = fileURLToPath(new URL("../../../scripts/dev/make_gpt_fixture.py", import.meta.url));

/** "1-50", "3", "1,4,7-9" → the seeds, each once, in order. */
export function parseSeeds(raw: string): number[] {
  const out = new Set<number>();
  for (const part of raw.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--seeds must look like 1-50 or 1,4,7-9, got ${JSON.stringify(raw)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 100_000) throw new UsageError(`--seeds range ${part.trim()} is empty or too long`);
    for (let s = lo; s <= hi; s++) out.add(s);
  }
  return [...out];
}

function printDiffs(diffs: Record<string, number>, tolerances: Record<string, number>, worst?: Record<string, string>): void {
  for (const [k, v] of Object.entries(diffs)) {
    const tol = tolerances[k]!;
    printLine(`${k.padEnd(13)} max |diff| ${v.toExponential(2)}  (tolerance ${tol})  ${v <= tol ? "ok" : "FAIL"}${worst?.[k] && !(v <= tol) ? `  worst: ${worst[k]}` : ""}`);
  }
}

const e = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const r = (x: number) => (Number.isFinite(x) ? x.toPrecision(2) : String(x));

function printCheck(name: string, c: CheckSummary): void {
  if (c.tensors === 0) return printLine(`${name.padEnd(17)} not in this fixture`);
  const what = name === "after_small_grad" ? `${c.elements} elements, ` : "";
  printLine(`${name.padEnd(17)} ${what}max |diff| ${e(c.max_abs_diff)}, worst ${r(c.worst_ratio)} of its bound${c.worst ? ` (${c.worst})` : ""}  ${c.ok ? "ok" : "FAIL"}`);
}

function printReport(report: VerifyReport): void {
  for (const [k, c] of Object.entries(report.checks)) printCheck(k, c);
  const b = report.bounds;
  printLine(`bounds: logits, losses, gradients within ε = 2·u·√K·D = ${e(b.relative)} (K ${b.numerics.reduction}, D ${b.numerics.depth}) of each tensor's largest value` +
    ` (+ ${e(b.grad_floor)} for gradients); after the steps within ${b.trajectory_fraction} of how far the reference moved each tensor;` +
    ` elements with a gradient below the floor within 2 × ${e(b.adam_travel ?? NaN)} (the farthest AdamW can move one)`);
  for (const t of report.tensors.filter((c) => !c.ok)) {
    const w = t.worst!;
    printLine(`FAIL ${t.kind} ${t.name}[${w.index}]: troupe ${w.actual}, PyTorch ${w.expected}, |diff| ${e(Math.abs(w.actual - w.expected))} is ${r(t.worst_ratio)} × its bound ${e(w.bound)}`);
  }
  printLine(report.ok ? "ok" : "FAILED");
}

function printSweep(s: SweepReport): void {
  const plan = Object.entries(s.sizes).map(([k, v]) => `${k} × ${v.seeds.length} seeds`).join(", ");
  printLine(`${s.passed} of ${s.fixtures} fixtures passed (${plan}; torch ${s.torch ?? "?"}; ${s.seconds.toFixed(1)} s)`);
  for (const [k, w] of Object.entries(s.worst)) {
    if (w.fixture === null) continue;
    printLine(`${k.padEnd(17)} worst ${r(w.worst_ratio)} of its bound (margin ${r(w.margin)}×) at ${w.fixture} ${w.where ?? ""}; max |diff| ${e(w.max_abs_diff)}`);
  }
  printLine(`small-gradient elements over all fixtures: ${s.small_grad_elements}`);
  for (const f of s.failed) printLine(`FAIL ${f.fixture}: ${f.reason}`);
  printLine(s.ok ? "ok" : "FAILED");
}

export function register(program: Command): void {
  program
    .command("verify")
    .description("check troupe against a PyTorch reference: a fixture file, a Hugging Face model directory or a PEFT adapter directory, or many generated fixtures (--sweep)")
    .argument("[path]", "reference fixture (.safetensors with __metadata__.config), model directory (config.json) or adapter directory (adapter_config.json)")
    .option("--base <dir>", "adapter directories: the base model directory (default: its base_model_name_or_path)")
    .option("--json", "print one JSON document")
    .option("--sweep", "generate fixtures with PyTorch for every seed and size, verify each, report the worst cases")
    .option("--seeds <list>", "with --sweep: seeds, e.g. 1-50 or 1,4,7-9 (default 1-50)")
    .option("--sizes <list>", "with --sweep: comma-separated sizes (default shared,odd,large)")
    .option("--python <path>", "with --sweep: a python with torch (default $TROUPE_PYTHON or /usr/bin/python3)")
    .action(async (file: string | undefined, opts: { json?: boolean; base?: string; sweep?: boolean; seeds?: string; sizes?: string; python?: string }) => {
      const K = await import("../../kernels/mod.js");
      if (opts.sweep) {
        if (file) throw new UsageError("--sweep makes its own fixtures; give no path");
        if (opts.base) throw new UsageError("--base applies to adapter directories");
        const seeds = parseSeeds(opts.seeds ?? "1-50");
        const sizes = opts.sizes?.split(",").map((s) => s.trim()).filter(Boolean) ?? Object.keys(K.SWEEP_SIZES);
        for (const s of sizes) if (!K.SWEEP_SIZES[s]) throw new UsageError(`--sizes: unknown size ${JSON.stringify(s)} (known: ${Object.keys(K.SWEEP_SIZES).join(", ")})`);
        const python = opts.python ?? process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
        const missing = K.torchMissing(python);
        if (missing) throw new UsageError(`--sweep needs PyTorch: ${missing}`);
        if (!existsSync(generator)) throw new UsageError(`the fixture generator is not at ${generator} (run from a checkout)`);
        progress(`[verify] sweep: ${seeds.length} seeds × ${sizes.length} sizes, fixtures written by ${python} ${generator} ...`);
        let n = 0;
        const report = await K.runSweep({
          python, generator, seeds: Object.fromEntries(sizes.map((s) => [s, seeds])),
          onFixture: (name, rep, err) => {
            n++;
            if (err || !rep?.ok) progress(`[verify] ${name}: ${err ?? "FAILED"}`);
            else if (n % 25 === 0) progress(`[verify] ${n} of ${seeds.length * sizes.length} verified`);
          },
        });
        if (opts.json) printJson(report);
        else printSweep(report);
        if (!report.ok) process.exitCode = 1;
        return;
      }
      if (!file) throw new UsageError("give a fixture file, a model or adapter directory, or --sweep");
      if (opts.seeds || opts.sizes || opts.python) throw new UsageError("--seeds, --sizes and --python go with --sweep");
      if (!existsSync(file)) throw new UsageError(`no such file or directory: ${file}`);
      if (statSync(file).isDirectory()) {
        const { verifyDir } = await import("../../models/mod.js");
        const report = verifyDir(file, opts.base ? { base: opts.base } : {});
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
      const { isLoraFixture, loraVerifyTolerances, verifyLoraFixture } = await import("../../models/mod.js");
      if (isLoraFixture(K.readSafetensors(file).tensors.keys())) {
        const report = verifyLoraFixture(file);
        if (opts.json) printJson(report);
        else {
          printDiffs(report.max_abs_diff, loraVerifyTolerances);
          printLine(`base frozen   ${report.base_frozen ? "ok" : "FAIL"}`);
          printLine(report.ok ? "ok" : "FAILED");
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const report = K.verifyFixture(file);
      if (opts.json) printJson(report);
      else printReport(report);
      if (!report.ok) process.exitCode = 1;
    });
}
