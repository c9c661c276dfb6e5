// `troupe bench allreduce` and `troupe bench thunder`: the data plane on the multi-host rig
// (network namespaces, one core each, tc-shaped links; needs root, or --loopback) against a raw
// link and torch.distributed (gloo) measured in the same run.
import type { Command } from "commander";
import { commandGroup } from "./groups.js";
import { intArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

function sizes(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const out = raw.split(",").map((s) => Number(s.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n < 1 || n > 2048)) throw new UsageError(`--sizes must be MiB integers in [1, 2048], comma-separated, got ${JSON.stringify(raw)}`);
  return out;
}

function compression(raw: string): "none" | "f16" | "bf16" {
  if (raw !== "none" && raw !== "f16" && raw !== "bf16") throw new UsageError(`--compression must be none, f16 or bf16, got ${JSON.stringify(raw)}`);
  return raw;
}

export function register(program: Command): void {
  const bench = commandGroup(program, "bench");
  bench
    .command("allreduce")
    .description("all-reduce of 8-256 MiB between two namespaced hosts over a shaped link vs a raw stream and torch.distributed gloo")
    .option("--json", "print one JSON document")
    .option("--link <rate>", "tc rate of the data link (1gbit, 10gbit, 20gbit, …; none: unshaped)", "10gbit")
    .option("--sizes <MiB,...>", "sizes to reduce (default 8,16,32,64,128,256)")
    .option("--iters <n>", "timed calls per size and round", intArg("--iters", 1, 1000), 5)
    .option("--rounds <n>", "rounds of (raw link, troupe, gloo), pooled", intArg("--rounds", 1, 100), 2)
    .option("--compression <kind>", "troupe's wire format: none, f16 or bf16 (busbw still counts f32 bytes)", "none")
    .option("--no-peer", "skip gloo")
    .option("--segment-kib <n>", "the ring's segment size (default 1024)", intArg("--segment-kib", 4, 1 << 20))
    .option("--loopback", "processes on 127.0.0.1 instead of namespaces (no root needed; no shaping, no pinning)")
    .action(async (opts: { json?: boolean; link: string; sizes?: string; iters: number; rounds: number; compression: string; peer: boolean; segmentKib?: number; loopback?: boolean }) => {
      const { runAllreduceBench } = await import("../../bench/thunder/mod.js");
      const r = await runAllreduceBench({
        link: opts.link === "none" ? null : opts.link, sizesMiB: sizes(opts.sizes), iters: opts.iters, rounds: opts.rounds,
        compression: compression(opts.compression), peer: opts.peer, loopback: opts.loopback, log: progress,
        ...(opts.segmentKib ? { segmentBytes: opts.segmentKib * 1024 } : {}),
      });
      if (opts.json) return printJson(r);
      printLine(`raw link ${r.link_GBps} GB/s (${r.kind}, ${r.link ?? "unshaped"})`);
      for (const row of r.rows) printLine(`${String(row.bytes >> 20).padStart(4)} MiB  busbw ${row.busbw_GBps} GB/s  gloo ${row.gloo_busbw_GBps ?? "-"} GB/s`);
      printLine(`efficiency ${r.efficiency} (target 0.9), vs_gloo ${r.vs_gloo ?? "-"} (target 1); both directions at once the raw link carries ${r.duplex_link_GBps} GB/s each way: duplex_efficiency ${r.duplex_efficiency}`);
    });
  bench
    .command("thunder")
    .description("tokens/s of the benchmark GPT on 1 host vs 2 namespaced hosts (one core each, shaped link) vs torch DDP (gloo) on the same hosts")
    .option("--json", "print one JSON document")
    .option("--link <rate>", "tc rate of the data link (none: unshaped)", "10gbit")
    .option("--steps <n>", "timed steps per run", intArg("--steps", 2, 100_000), 20)
    .option("--rounds <n>", "rounds of (troupe x1, troupe x2, torch x1, torch DDP x2), pooled", intArg("--rounds", 1, 100), 2)
    .option("--compression <kind>", "gradients on the wire: none, f16 or bf16", "none")
    .option("--no-overlap", "reduce buckets only after backward")
    .option("--bucket-kib <n>", "gradient bucket size (default: the trainer's, 4096)", intArg("--bucket-kib", 4, 1 << 20))
    .option("--no-peer", "skip torch")
    .option("--loopback", "processes on 127.0.0.1 instead of namespaces (no root needed; no shaping, no pinning)")
    .action(async (opts: { json?: boolean; link: string; steps: number; rounds: number; compression: string; overlap: boolean; bucketKib?: number; peer: boolean; loopback?: boolean }) => {
      const { runThunderBench } = await import("../../bench/thunder/mod.js");
      const r = await runThunderBench({
        link: opts.link === "none" ? null : opts.link, steps: opts.steps, rounds: opts.rounds, compression: compression(opts.compression),
        overlap: opts.overlap, peer: opts.peer, loopback: opts.loopback, log: progress,
        ...(opts.bucketKib ? { bucketBytes: opts.bucketKib * 1024 } : {}),
      });
      if (opts.json) return printJson(r);
      printLine(`troupe ${r.tokens_per_s_1} tok/s on 1 host, ${r.tokens_per_s_2} on 2: scaling ${r.scaling} (target 1.8); two hosts apart, no sync: ${r.tokens_per_s_apart} (compute_scaling ${r.compute_scaling})`);
      printLine(`torch DDP ${r.torch_ddp_tokens_per_s ?? "-"} tok/s on 2 hosts (${r.torch_tokens_per_s_1 ?? "-"} on 1): vs_torch_ddp ${r.vs_torch_ddp ?? "-"} (target 1.5)`);
    });
  bench
    .command("link")
    .description("bytes between two namespaced hosts by transport: raw TCP vs troupe links (zero-copy or copying receive), several streams, both directions")
    .option("--json", "print one JSON document")
    .option("--link <rate>", "tc rate of the data link (none: unshaped)", "10gbit")
    .option("--mib <n>", "MiB per case and direction", intArg("--mib", 1, 65536), 512)
    .option("--rounds <n>", "rounds over all cases (median)", intArg("--rounds", 1, 100), 2)
    .option("--loopback", "processes on 127.0.0.1 instead of namespaces")
    .action(async (opts: { json?: boolean; link: string; mib: number; rounds: number; loopback?: boolean }) => {
      const { runLinkBench } = await import("../../bench/thunder/mod.js");
      const r = await runLinkBench({ link: opts.link === "none" ? null : opts.link, mib: opts.mib, rounds: opts.rounds, loopback: opts.loopback, log: progress });
      if (opts.json) return printJson(r);
      for (const row of r.rows) printLine(`${row.transport.padEnd(44)} ${row.GBps} GB/s`);
    });
}
