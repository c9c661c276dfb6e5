// troupe demo: the smallest honest end-to-end run (replaced by the curriculum run later).
import type { Command } from "commander";
import { intArg, urlArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine } from "../output.js";

export function register(program: Command): void {
  program
    .command("demo")
    .description("producer → durable queue → 2 workers → collector, each actor in its own process, on an embedded NATS")
    .option("--json", "print one JSON document")
    .option("--nats <url>", "use this NATS server instead of an embedded one", urlArg("--nats"))
    .option("--jobs <n>", "jobs to run", intArg("--jobs", 1, 1_000_000), 200)
    .action(async (opts: { json?: boolean; nats?: string; jobs: number }) => {
      const { runDemo } = await import("../../actors/demo/run.js");
      const r = await runDemo({ natsUrl: opts.nats, jobs: opts.jobs });
      if (opts.json) printJson(r);
      else {
        printLine(`demo ${r.run}: ${r.actors} actor processes under one supervisor`);
        printLine(`  ${r.verified}/${r.jobs} results verified by the collector (${r.duplicates} duplicates, ${r.wrong} wrong)`);
        printLine(`  by worker: ${Object.entries(r.by_worker).map(([w, n]) => `worker ${w}: ${n}`).join(", ")}; restarts: ${r.restarts}`);
        printLine(`  ${r.ok ? "ok" : "FAILED"} in ${(r.elapsed_ms / 1000).toFixed(1)} s`);
      }
      if (!r.ok) process.exitCode = ExitCode.failure;
    });
}
