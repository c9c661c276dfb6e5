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

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  const v = positiveNumber(name, raw, fallback);
  if (!Number.isInteger(v)) throw new UsageError(`--${name} must be a positive integer, got ${raw}`);
  return v;
}

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("kernels")
    .description("GEMM GFLOP/s (square n = 128..1024 and the bench GPT's shapes) vs the FMA peak and PyTorch at its best, on all threads and on one")
    .option("--json", "print one JSON document")
    .option("--seconds <s>", "time per shape (default 0.25)")
    .option("--no-peer", "skip the PyTorch peer")
    .option("--rounds <n>", "rounds of (troupe, the peer in every configuration), medians over rounds (default 2)")
    .action(async (opts: { json?: boolean; seconds?: string; peer: boolean; rounds?: string }) => {
      const { runKernelBench } = await import("../../bench/kernels/mod.js");
      const rounds = positiveInteger("rounds", opts.rounds, 2);
      progress(`[bench] kernels: FMA peak; ${rounds} rounds of GEMMs (ours, BLAS, one thread) and the PyTorch peer in every configuration ...`);
      const r = runKernelBench({ seconds: positiveNumber("seconds", opts.seconds, 0.25), peer: opts.peer, rounds, onProgress: progress });
      if (opts.json) return printJson(r);
      printLine(`FMA peak ${r.fma_peak_gflops} GFLOP/s (${r.machine.threads} threads, ${r.machine.kernels}, GEMM by ${r.machine.gemm})`);
      printLine(`peer: ${r.peer ? `torch ${r.peer.torch_version}, best of ${r.peer_search!.length} configurations over ${r.rounds} rounds: ${r.peer.config} (OpenBLAS ${r.peer.blas_core})` : `none (${r.peer_reason})`}`);
      if (r.peer_one_thread) printLine(`peer, one thread each: ${r.peer_one_thread.config} (OpenBLAS ${r.peer_one_thread.blas_core})`);
      printLine(`${"".padEnd(24)} ${"GFLOP/s".padStart(8)} ${"peak".padStart(5)} ${"torch".padStart(7)} ${"ratio".padStart(6)}   ${"1 thread".padStart(8)} ${"torch".padStart(7)} ${"ratio".padStart(6)}`);
      const cell = (v: number | null, w: number) => String(v ?? "-").padStart(w);
      for (const g of [...r.gemm.square, ...r.gemm.gpt]) {
        printLine(`${g.name.padEnd(24)} ${cell(g.gflops, 8)} ${`${(g.fraction_of_peak * 100).toFixed(0)}%`.padStart(5)} ${cell(g.torch_gflops, 7)} ${cell(g.ratio_vs_torch, 6)}   ${cell(g.gflops_1t, 8)} ${cell(g.torch_gflops_1t, 7)} ${cell(g.ratio_vs_torch_1t, 6)}`);
      }
      const s = r.summary;
      printLine(`geomean: troupe ${s.geomean_gflops} vs torch ${s.torch_geomean_gflops ?? "-"} (ratio ${s.ratio_vs_torch ?? "-"}); one thread: ${s.geomean_gflops_1t} vs ${s.torch_geomean_gflops_1t ?? "-"} (ratio ${s.ratio_vs_torch_1t ?? "-"})`);
    });
  bench
    .command("train")
    .description("tokens/s of a training step vs PyTorch: the bench GPT (vocab 256, block 128, d 128, 4 heads, 4 layers, batch 16), or --arch llama (hidden 512, 8 layers, 8 heads, 4 kv heads, seq 256) with fraction_of_peak")
    .option("--json", "print one JSON document")
    .option("--arch <name>", "gpt2 (default) or llama")
    .option("--no-peer", "skip the PyTorch peer")
    .option("--peer-script <path>", "the peer (default ../shared/bench/torch_gpt.py; llama: bench/peers/torch_llama.py)")
    .option("--rounds <n>", "rounds of (troupe, the peer in every configuration), medians over all (default 2)")
    .action(async (opts: { json?: boolean; arch?: string; peer: boolean; peerScript?: string; rounds?: string }) => {
      const rounds = positiveInteger("rounds", opts.rounds, 2);
      const arch = opts.arch ?? "gpt2";
      const { trainBenchArchs, runTrainBenchFor } = await import("../../bench/kernels/mod.js");
      if (!trainBenchArchs.includes(arch)) throw new UsageError(`--arch must be one of ${trainBenchArchs.join(", ")}, got ${JSON.stringify(arch)}`);
      progress(`[bench] train --arch ${arch}: ${rounds} rounds of troupe, then the PyTorch peer in every configuration (medians over all) ...`);
      const { result, lines } = runTrainBenchFor(arch, { peerScript: opts.peer ? opts.peerScript : false, rounds, onProgress: progress });
      if (opts.json) return printJson(result);
      for (const l of lines) printLine(l);
    });
}
