// `troupe bench agp`: the AGP stages on the quickstart-size GPT, the transfer fidelity table,
// and routed decoding against full depth in the same run.
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { intArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("agp")
    .description("stages 2-6 on a small GPT: gates, transfer fidelity per codec, routed vs full-depth decoding (layers, tokens/s, exact match)")
    .option("--json", "print one JSON document")
    .option("--fresh", "pretrain the base again instead of using the cached one")
    .option("--quick", "a smoke run with a quarter of the steps (the targets are not expected to hold)")
    .option("--rounds <n>", "rounds of (full, routed) decoding; tokens/s is each side's median", intArg("--rounds", 1, 50), 3)
    .option("--check", "exit 1 unless every target holds")
    .action(async (opts: { json?: boolean; fresh?: boolean; quick?: boolean; rounds: number; check?: boolean }) => {
      const { runAgpBench } = await import("../../bench/agp/mod.js");
      const r = await runAgpBench({ fresh: !!opts.fresh, quick: !!opts.quick, rounds: opts.rounds, onProgress: progress });
      if (opts.json) printJson(r);
      else {
        printLine(`base: ${r.model.nLayer} blocks of ${r.model.nEmbd}, held-out exact match ${r.model.base_em.toFixed(3)}`);
        for (const g of r.gates) printLine(`stage ${g.stage} ${g.passed ? "passed" : "failed"}: ${g.reason}`);
        printLine("codec     split  bytes/token  KL          top-1");
        for (const t of r.transfer) printLine(`${t.codec.padEnd(9)} ${String(t.layer).padStart(5)}  ${t.payload_bytes_per_token.toFixed(1).padStart(11)}  ${t.kl_mean.toExponential(2).padEnd(10)}  ${t.top1.toFixed(4)}`);
        const a = r.architecture;
        printLine(`routed: ${a.mean_layers_per_token.toFixed(2)} of ${a.full_layers} layers/token, ${Math.round(a.tokens_per_s_routed)} vs ${Math.round(a.tokens_per_s_full)} tokens/s full depth (${(a.tokens_per_s_routed / a.tokens_per_s_full).toFixed(2)}x), exact match ${a.em_routed.toFixed(3)} vs ${a.em_full.toFixed(3)}`);
        printLine(`targets: ${Object.entries(r.targets).map(([k, v]) => `${k} ${v ? "ok" : "MISSED"}`).join(", ")}`);
      }
      if (opts.check && Object.values(r.targets).some((v) => !v)) process.exitCode = ExitCode.failure;
    });
}
