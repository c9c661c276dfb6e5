// troupe bench pool | chaos pool-failover: the pool scheduler measured against the naive one on
// a fleet of worker processes, and a worker killed and another drained under load. Added to
// the `bench` and `chaos` groups.
import type { Command } from "commander";
import { intArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";
import { commandGroup } from "./groups.js";

export function register(program: Command): void {
  commandGroup(program, "bench")
    .command("pool")
    .description("bucketed vs naive first-fit pool scheduling: 4 worker processes x 2 cores, a mixed-length request stream, alternating rounds")
    .option("--json", "print one JSON document")
    .option("--workers <n>", "worker processes", intArg("--workers", 1, 64), 4)
    .option("--cores <n>", "cores per worker", intArg("--cores", 1, 64), 2)
    .option("--requests <n>", "rows per policy per round (at least 2 x clients + 100)", intArg("--requests", 10, 10_000_000), 1200)
    .option("--clients <n>", "closed-loop callers", intArg("--clients", 1, 100_000), 128)
    .option("--rounds <n>", "alternating rounds (the ratio is their median)", intArg("--rounds", 1, 100), 6)
    .option("--check", "exit 1 unless bucketed throughput >= 1.3 x naive")
    .action(async (f: { json?: boolean; workers: number; cores: number; requests: number; clients: number; rounds: number; check?: boolean }) => {
      const { runPoolBench } = await import("../../bench/pool/mod.js");
      process.env.TROUPE_LOG_LEVEL ??= "warn";
      const r = await runPoolBench({ workers: f.workers, cores: f.cores, requests: f.requests, clients: f.clients, rounds: f.rounds, log: (l) => progress(`[bench pool] ${l}`) });
      if (f.json) printJson(r);
      else {
        for (const p of ["bucketed", "naive"] as const) {
          const x = r[p];
          printLine(`${p.padEnd(8)} ${x.throughput} rows/s  p50 ${x.p50_ms} ms  p99 ${x.p99_ms} ms  padding ${(x.padding_ratio * 100).toFixed(1)} %  (${x.requests} rows, ${x.failed} failed)`);
        }
        printLine(`bucketed / naive throughput, median of ${r.rounds.length} rounds: ${r.ratio} (rounds ${r.rounds.map((x) => x.ratio).join(", ")}; per worker CPU-second ${r.ratio_cpu ?? "-"}; target >= ${r.target})`);
      }
      if (f.check && !(r.ratio >= r.target)) process.exitCode = ExitCode.failure;
    });
  commandGroup(program, "chaos")
    .command("pool-failover")
    .description("kill -9 one of 4 pool workers and SIGTERM-drain another under load; no row may fail")
    .option("--json", "print one JSON document")
    .option("--workers <n>", "worker processes", intArg("--workers", 3, 64), 4)
    .option("--clients <n>", "closed-loop callers", intArg("--clients", 1, 100_000), 64)
    .option("--before-ms <n>", "load before the faults", intArg("--before-ms", 100, 3_600_000), 5000)
    .option("--settle-ms <n>", "load after both faulted workers are out of rotation", intArg("--settle-ms", 0, 3_600_000), 3000)
    .action(async (f: { json?: boolean; workers: number; clients: number; beforeMs: number; settleMs: number }) => {
      const { runPoolFailover } = await import("../../bench/pool/mod.js");
      process.env.TROUPE_LOG_LEVEL ??= "error";
      const r = await runPoolFailover({ workers: f.workers, clients: f.clients, beforeMs: f.beforeMs, settleMs: f.settleMs, log: (l) => progress(`[chaos pool-failover] ${l}`) });
      if (f.json) printJson(r);
      else {
        printLine(`${r.requests} rows, ${r.failed} failed, ${r.retried} retried; p99 ${r.p99_ms_before} ms before, ${r.p99_ms_during} ms during; out of rotation after ${r.out_of_rotation_ms} ms`);
        printLine(`restarted ${r.returned.address}: ${r.returned.back_in_rotation ? `back in rotation, ${r.returned.rows_in_2_s} rows in 2 s` : "NOT back in rotation"}`);
      }
      const ok = r.failed === 0 && r.deadline_exceeded === 0 && r.retried > 0 && r.returned.back_in_rotation && r.drained.exit === 0;
      if (!ok) process.exitCode = ExitCode.failure;
    });
}
