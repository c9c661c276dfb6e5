// `troupe bench kernels` and `troupe bench train`: kernel throughput and a GPT training step
// against PyTorch measured in the same command. Adds to the `bench` group if another layer
// registered it already.
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a positive number, got ${raw}`);
  return v;
}

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("kernels")
    .description("GEMM GFLOP/s (square n = 128..1024 and the bench GPT's shapes) vs the FMA peak and PyTorch")
    .option("--json", "print one JSON document")
    .option("--seconds <s>", "time per shape (default 0.25)")
    .option("--no-peer", "skip the PyTorch peer")
    .action(async (opts: { json?: boolean; seconds?: string; peer: boolean }) => {
      const { runKernelBench } = await import("../../bench/kernels/mod.js");
      progress("[bench] kernels: FMA peak, GEMMs (ours, BLAS), PyTorch peer ...");
      const r = runKernelBench({ seconds: positiveNumber("seconds", opts.seconds, 0.25), peer: opts.peer });
      if (opts.json) return printJson(r);
      printLine(`FMA peak ${r.fma_peak_gflops} GFLOP/s (${r.machine.threads} threads, ${r.machine.kernels}, GEMM by ${r.machine.gemm})`);
      for (const g of [...r.gemm.square, ...r.gemm.gpt]) {
        printLine(`${g.name.padEnd(24)} ${String(g.gflops).padStart(7)} GFLOP/s  ${(g.fraction_of_peak * 100).toFixed(0).padStart(3)}% of peak  torch ${g.torch_gflops ?? "-"}`);
      }
    });
  bench
    .command("train")
    .description("tokens/s of a training step vs PyTorch: the bench GPT (vocab 256, block 128, d 128, 4 heads, 4 layers, batch 16), or --arch llama (hidden 512, 8 layers, 8 heads, 4 kv heads, seq 256) with fraction_of_peak")
    .option("--json", "print one JSON document")
    .option("--arch <name>", "gpt2 (default) or llama")
    .option("--no-peer", "skip the PyTorch peer")
    .option("--peer-script <path>", "the peer (default ../shared/bench/torch_gpt.py; llama: bench/peers/torch_llama.py)")
    .option("--rounds <n>", "rounds of (troupe, then the peer), medians over all (default 2)")
    .action(async (opts: { json?: boolean; arch?: string; peer: boolean; peerScript?: string; rounds?: string }) => {
      const rounds = positiveNumber("rounds", opts.rounds, 2);
      if (!Number.isInteger(rounds)) throw new UsageError(`--rounds must be a positive integer, got ${opts.rounds}`);
      const arch = opts.arch ?? "gpt2";
      const { trainBenchArchs, runTrainBenchFor } = await import("../../bench/kernels/mod.js");
      if (!trainBenchArchs.includes(arch)) throw new UsageError(`--arch must be one of ${trainBenchArchs.join(", ")}, got ${JSON.stringify(arch)}`);
      progress(`[bench] train --arch ${arch}: ${rounds} rounds of troupe and the PyTorch peer (medians over all) ...`);
      const { result, lines } = runTrainBenchFor(arch, { peerScript: opts.peer ? opts.peerScript : false, rounds });
      if (opts.json) return printJson(result);
      for (const l of lines) printLine(l);
    });
}
