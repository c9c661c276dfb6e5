// `troupe chaos dp-equivalence`: Thunder-Train must equal single-host training on the combined
// batch. Two hosts (network namespaces, one core each, a shaped link; loopback processes with
// --loopback) run `troupe train --dp-world 2` on a split batch for 20 steps; one host runs the
// same 20 steps on the combined batch; the final weights are compared:
//   max_param_diff   data-parallel vs combined batch (gate: ≤ 1e-5)
//   rank_diff        rank 0 vs rank 1 (must be 0: the identical update everywhere)
//   reorder_floor    one host, the same rows as two accumulated micro-batches vs combined: what
//                    float reordering alone does to the weights, measured in the same run
// The model is the benchmark GPT (vocab 256, block 128, 128 channels, 4 heads, 4 layers) at its
// learning rate (3e-4, constant), 16 rows per host, on the first 256 KiB of tinyshakespeare
// when ../shared has it (a generated text otherwise).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { intArg } from "../args.js";
import { ExitCode } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";
import { commandGroup } from "./groups.js";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));

export interface DpEquivalenceOptions {
  readonly steps?: number;
  readonly hosts?: number;
  readonly rate?: string | null;
  readonly batch?: number;
  readonly lr?: number;
  readonly compression?: "none" | "f16" | "bf16";
  readonly loopback?: boolean;
  /** model flags for `troupe train` (default: the benchmark GPT) */
  readonly model?: readonly string[];
  readonly keep?: boolean;
}

export const BENCH_MODEL_ARGS = ["--block", "128", "--embd", "128", "--heads", "4", "--layers", "4"];
export const DP_GATE = 1e-5;

/** The first 256 KiB of tinyshakespeare (so each run's final validation pass stays short). */
async function corpus(dir: string): Promise<string> {
  const { existsSync, readFileSync } = await import("node:fs");
  const { sharedPath } = await import("../../bench/shared.js");
  const shakespeare = sharedPath("data/tinyshakespeare/input.txt");
  const file = join(dir, "corpus.txt");
  if (existsSync(shakespeare)) {
    writeFileSync(file, readFileSync(shakespeare).subarray(0, 256 * 1024));
    return file;
  }
  // a deterministic stand-in: varied enough to train on
  const words = ["thunder", "ring", "host", "link", "gradient", "batch", "token", "reduce", "scatter", "gather", "the", "of", "and", "to"];
  let x = 7;
  const out: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(words[x % words.length]!);
    if (x % 11 === 0) out.push(".\n");
  }
  writeFileSync(file, out.join(" "));
  return file;
}

async function maxDiff(a: string, b: string): Promise<number> {
  const M = await import("../../models/mod.js");
  const [x, y] = await Promise.all([M.loadModelFile(a), M.loadModelFile(b)]);
  const ys = new Map(y.model.namedParameters());
  let m = 0;
  for (const [n, t] of x.model.namedParameters()) {
    const p = t.f32();
    const q = ys.get(n)?.f32();
    if (!q || q.length !== p.length) throw new Error(`the two checkpoints differ in parameter ${n}`);
    for (let i = 0; i < p.length; i++) m = Math.max(m, Math.abs(p[i]! - q[i]!));
  }
  return m;
}

export async function runDpEquivalence(o: DpEquivalenceOptions = {}) {
  const steps = o.steps ?? 20;
  const world = o.hosts ?? 2;
  const batch = o.batch ?? 16;
  const lr = o.lr ?? 3e-4;
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "troupe-dpeq-"));
  const { openHosts, finished, expectOk } = await import("../../hosts/mod.js");
  const hosts = await openHosts({ hosts: world, rate: o.rate === undefined ? "10gbit" : o.rate, loopback: o.loopback });
  try {
    const data = await corpus(dir);
    const common = [
      "train", "--data", data, "--steps", String(steps), ...(o.model ?? BENCH_MODEL_ARGS), "--lr", String(lr), "--min-lr", String(lr),
      "--warmup", "0", "--eval-every", String(steps), "--checkpoint-every", "0", "--seed", "1", "--run", "dpeq", "--json",
    ];
    const env = { TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? "warn" };
    progress(`[chaos] dp-equivalence: ${world} ${hosts.kind === "namespaces" ? `namespaced hosts (${hosts.rate ?? "unshaped"} link)` : "loopback processes"}, ${steps} steps of ${batch} rows each`);
    const ranks = await Promise.all(Array.from({ length: world }, (_, r) => {
      const args = [...common, "--batch", String(batch), "--out", join(dir, "dp"), "--nats", hosts.natsUrl, "--dp-world", String(world), "--dp-rank", String(r),
        "--dp-group", "dpeq", "--dp-address", hosts.address(r), "--host", `h${r}`, "--compression", o.compression ?? "none"];
      return finished(hosts.spawn(r, process.execPath, [MAIN, ...args], env)).then((f) => expectOk(`rank ${r}`, f));
    }));
    progress(`[chaos] one host, the combined batch of ${batch * world} rows; then the same rows as ${world} accumulated micro-batches`);
    mkdirSync(join(dir, "one"), { recursive: true });
    const single = expectOk("the single host", await finished(hosts.spawn(0, process.execPath, [MAIN, ...common, "--batch", String(batch * world), "--out", join(dir, "one")], env)));
    const accum = expectOk("the accumulating host", await finished(hosts.spawn(0, process.execPath, [MAIN, ...common, "--batch", String(batch), "--accumulate", String(world), "--out", join(dir, "accum")], env)));
    const ck = (r: Record<string, unknown>) => r.checkpoint as string;
    const max_param_diff = await maxDiff(ck(ranks[0]!), ck(single));
    const rank_diff = Math.max(...(await Promise.all(ranks.slice(1).map((r) => maxDiff(ck(ranks[0]!), ck(r))))));
    const reorder_floor = await maxDiff(ck(accum), ck(single));
    return {
      max_param_diff, gate: DP_GATE, passed: max_param_diff <= DP_GATE && rank_diff === 0,
      rank_diff, reorder_floor, steps, hosts: world, kind: hosts.kind, link: hosts.rate, compression: o.compression ?? "none",
      rows_per_host: batch, lr, train_loss_dp: ranks[0]!.train_loss, train_loss_single: single.train_loss,
      tokens_per_s_dp: ranks[0]!.tokens_per_s, tokens_per_s_single: single.tokens_per_s,
      data_parallel: ranks[0]!.data_parallel, wall_s: Math.round((performance.now() - t0) / 100) / 10,
      ...(o.keep ? { dir } : {}),
    };
  } finally {
    await hosts.close();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

export function register(program: Command): void {
  commandGroup(program, "chaos")
    .command("dp-equivalence")
    .description("Thunder-Train on 2 namespaced hosts vs one host on the combined batch: max_param_diff after 20 steps (≤ 1e-5)")
    .option("--json", "print one JSON document")
    .option("--steps <n>", "training steps", intArg("--steps", 1, 100_000), 20)
    .option("--hosts <n>", "data-parallel hosts", intArg("--hosts", 2, 16), 2)
    .option("--rate <rate>", "tc rate of the data links (e.g. 1gbit, 10gbit; 'none' for unshaped)", "10gbit")
    .option("--compression <kind>", "none, f16 or bf16 (compressed runs are not expected to pass the 1e-5 gate)", "none")
    .option("--loopback", "run the hosts as processes on 127.0.0.1 (no root needed; no namespaces, shaping or pinning)")
    .option("--keep", "keep the runs' directory")
    .action(async (opts: { json?: boolean; steps: number; hosts: number; rate: string; compression: string; loopback?: boolean; keep?: boolean }) => {
      const r = await runDpEquivalence({
        steps: opts.steps, hosts: opts.hosts, rate: opts.rate === "none" ? null : opts.rate,
        compression: opts.compression as "none", loopback: opts.loopback, keep: opts.keep,
      });
      if (opts.json) printJson(r);
      else printLine(`max_param_diff ${r.max_param_diff.toExponential(2)} (gate ${DP_GATE}), ranks identical: ${r.rank_diff === 0}, float-reordering floor ${r.reorder_floor.toExponential(2)}: ${r.passed ? "passed" : "FAILED"}`);
      if (!r.passed) process.exitCode = ExitCode.failure;
    });
}
