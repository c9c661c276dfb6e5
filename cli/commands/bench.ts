// troupe bench protocol: wire-format costs against peers measured in the same run.
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { intArg, urlArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine } from "../output.js";

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("protocol")
    .description("tensor codec (fresh buffer, NaN-checked) vs memcpy (4 MiB f32), actor call vs bare NATS request")
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--calls <n>", "round trips of each kind", intArg("--calls", 100, 1_000_000), 5000)
    .option("--codec-ms <n>", "measuring time per codec task", intArg("--codec-ms", 10, 600_000), 1000)
    .option("--check", "exit 1 unless ratio >= 0.5 and call_p50 <= 1.3 x nats_raw_p50")
    .action(async (opts: { json?: boolean; nats?: string; calls: number; codecMs: number; check?: boolean }) => {
      const { runProtocolBench } = await import("../../bench/mod.js");
      const r = await runProtocolBench({ natsUrl: opts.nats, calls: opts.calls, codecTimeMs: opts.codecMs });
      if (opts.json) printJson(r);
      else {
        const v = r.codec_variants;
        printLine(`tensor codec (fresh buffer, NaN-checked) ${r.tensor_codec_GBps} GB/s vs memcpy ${r.memcpy_GBps} GB/s: ratio ${r.ratio} (target >= 0.5); vs a copy into a fresh buffer ${r.memcpy_fresh_GBps} GB/s: ${r.ratio_vs_fresh_copy}`);
        printLine(`  secondary: fresh buffer without the NaN check ${v.fresh_no_nan_check_GBps} GB/s; reused buffer ${v.reused_buffer_GBps} GB/s, without the NaN check ${v.reused_buffer_no_nan_check_GBps} GB/s`);
        printLine(`actor call p50 ${r.call_p50_us} µs (p99 ${r.call_p99_us}) vs bare NATS request p50 ${r.nats_raw_p50_us} µs: ${r.call_over_raw_p50}x (target <= 1.3)`);
      }
      if (opts.check && (r.ratio < 0.5 || r.call_over_raw_p50 > 1.3)) process.exitCode = ExitCode.failure;
    });
}
