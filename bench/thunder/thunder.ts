// `troupe bench thunder`: tokens/s of the benchmark GPT (vocab 256, block 128, 128 channels,
// 4 heads, 4 layers, 16 rows per host) trained by troupe's trainer loop on 1 host (one core)
// and data-parallel on 2 hosts (one core each) over the rig's shaped link, against torch DDP
// (gloo) on the same two hosts — and torch on one host, for its own scaling. Each host trains
// 16 rows per step (weak scaling: the group's batch is 32), as DDP is usually measured. Rounds
// of (troupe ×1, troupe ×2, torch ×1, torch DDP ×2) are interleaved and the step times pooled.
// Each round also trains on both hosts at once with no sync at all (two independent single-host
// runs): `compute_scaling` is what the two cores give together before any network, the ceiling
// of `scaling` on this machine (shared caches, memory bandwidth, and on a VM whatever the two
// vCPUs share), and `sync_efficiency` = scaling / compute_scaling is the part the data plane
// and the trainer's synchronisation lose.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Hosts, expectOk, finished, openHosts } from "../../hosts/mod.js";
import { benchConfig } from "../kernels/train.js";
import { python } from "../peers/mod.js";
import { repoRoot } from "../shared.js";

const RANK = fileURLToPath(new URL("./train-rank.js", import.meta.url));
const DDP = join(repoRoot, "bench", "peers", "torch_ddp.py");

export interface ThunderBenchOptions {
  readonly link?: string | null;
  readonly steps?: number;
  readonly warmup?: number;
  readonly rounds?: number;
  readonly compression?: "none" | "f16" | "bf16";
  readonly overlap?: boolean;
  /** gradient bucket size in bytes (default: the trainer's, 4 MiB) */
  readonly bucketBytes?: number;
  readonly loopback?: boolean;
  readonly peer?: boolean;
  readonly log?: (line: string) => void;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type RankOut = { step_ms: number[]; tokens_per_step: number; sync?: Record<string, number> | null; threads?: number; version?: string };

/** `world` ranks of one group, or with `independent` one single-host run on each of 2 hosts */
async function troupe(h: Hosts, world: number, o: ThunderBenchOptions, run: string, independent = false): Promise<RankOut[]> {
  return Promise.all(Array.from({ length: independent ? 2 : world }, (_, rank) => {
    const args = {
      nats: h.natsUrl, run, group: "tb", rank: independent ? 0 : rank, world: independent ? 1 : world, address: h.address(rank), steps: o.steps ?? 20, warmup: o.warmup ?? 3,
      compression: o.compression ?? "none", overlap: o.overlap ?? true, config: benchConfig,
      ...(o.bucketBytes ? { bucketBytes: o.bucketBytes } : {}),
    };
    return finished(h.spawn(rank, process.execPath, [RANK, JSON.stringify(args)], { TROUPE_LOG_LEVEL: "warn" })).then((f) => expectOk(independent ? `troupe alone on host ${rank}` : `troupe rank ${rank}/${world}`, f) as unknown as RankOut);
  }));
}

async function torch(h: Hosts, world: number, o: ThunderBenchOptions, port: number): Promise<RankOut[]> {
  const env = { GLOO_SOCKET_IFNAME: h.dataInterface, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", OPENBLAS_CORETYPE: "", TORCH_THREADS: "1" };
  delete (env as Record<string, string | undefined>).OPENBLAS_CORETYPE;
  return Promise.all(Array.from({ length: world }, (_, rank) => {
    const args = { rank, world, master: h.address(0), port, steps: o.steps ?? 20, warmup: o.warmup ?? 3, config: benchConfig };
    return finished(h.spawn(rank, python(), [DDP, JSON.stringify(args)], env)).then((f) => expectOk(`torch rank ${rank}/${world}`, f) as unknown as RankOut);
  }));
}

export async function runThunderBench(o: ThunderBenchOptions = {}) {
  const rounds = Math.max(1, o.rounds ?? 2);
  const log = o.log ?? (() => undefined);
  const hosts = await openHosts({ hosts: 2, rate: o.link === undefined ? "10gbit" : o.link, loopback: o.loopback });
  const py = python();
  let peerReason: string | null = o.peer === false ? "disabled" : !existsSync(py) ? `${py} not found` : !existsSync(DDP) ? `${DDP} not found` : null;
  const t1: number[] = [];
  const t2: number[] = [];
  const ti: number[] = [];
  const p1: number[] = [];
  const p2: number[] = [];
  let tokens1 = 0;
  let tokens2 = 0;
  let syncStats: Record<string, number> | null = null;
  let peerInfo: Record<string, unknown> | null = null;
  try {
    for (let round = 0; round < rounds; round++) {
      log(`[bench] thunder round ${round + 1}/${rounds}: troupe on 1 host, on 2 hosts; torch on 1 host, DDP on 2 hosts`);
      const one = await troupe(hosts, 1, o, `tb${process.pid}a${round}`);
      t1.push(...one[0]!.step_ms);
      tokens1 = one[0]!.tokens_per_step;
      const two = await troupe(hosts, 2, o, `tb${process.pid}b${round}`);
      // a step ends on both ranks at the all-reduce: the slower rank's time is the group's
      two[0]!.step_ms.forEach((ms, i) => t2.push(Math.max(ms, two[1]!.step_ms[i] ?? ms)));
      tokens2 = two[0]!.tokens_per_step;
      syncStats = two[0]!.sync ?? null;
      // both hosts busy, nothing shared: each step's pair runs side by side (the slower one counts)
      const apart = await troupe(hosts, 1, o, `tb${process.pid}c${round}`, true);
      apart[0]!.step_ms.forEach((ms, i) => ti.push(Math.max(ms, apart[1]!.step_ms[i] ?? ms)));
      if (peerReason === null) {
        try {
          const a = await torch(hosts, 1, o, 0);
          p1.push(...a[0]!.step_ms);
          const b = await torch(hosts, 2, o, 20000 + ((process.pid * 7 + round * 131) % 30000));
          b[0]!.step_ms.forEach((ms, i) => p2.push(Math.max(ms, b[1]!.step_ms[i] ?? ms)));
          peerInfo = { name: "torch DistributedDataParallel, gloo backend (gradient_as_bucket_view)", version: b[0]!.version, threads: b[0]!.threads, blas_threads: 1, openblas_coretype: "unset", GLOO_SOCKET_IFNAME: hosts.dataInterface };
        } catch (err) {
          peerReason = (err as Error).message.slice(0, 600);
        }
      }
    }
  } finally {
    await hosts.close();
  }
  const tps = (tokens: number, ms: number[]) => (ms.length ? Math.round((tokens / median(ms)) * 1000) : null);
  const tokens_per_s_1 = tps(tokens1, t1)!;
  const tokens_per_s_2 = tps(tokens2, t2)!;
  const tokens_per_s_apart = tps(tokens1 * 2, ti)!;
  const torch_tokens_per_s_1 = tps(benchConfig.batch * benchConfig.block, p1);
  const torch_ddp_tokens_per_s = tps(benchConfig.batch * benchConfig.block * 2, p2);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    tokens_per_s_1, tokens_per_s_2, scaling: r2(tokens_per_s_2 / tokens_per_s_1),
    tokens_per_s_apart, compute_scaling: r2(tokens_per_s_apart / tokens_per_s_1), sync_efficiency: r2(tokens_per_s_2 / tokens_per_s_apart),
    torch_ddp_tokens_per_s, vs_torch_ddp: torch_ddp_tokens_per_s ? r2(tokens_per_s_2 / torch_ddp_tokens_per_s) : null,
    torch_tokens_per_s_1, torch_scaling: torch_ddp_tokens_per_s && torch_tokens_per_s_1 ? r2(torch_ddp_tokens_per_s / torch_tokens_per_s_1) : null,
    step_ms_1: r2(median(t1)), step_ms_2: r2(median(t2)), step_ms_apart: r2(median(ti)),
    link: hosts.rate, kind: hosts.kind, compression: o.compression ?? "none", overlap: o.overlap ?? true, bucket_bytes: o.bucketBytes ?? null,
    config: benchConfig, rows_per_host: benchConfig.batch, steps: o.steps ?? 20, rounds,
    sync: syncStats, peer: peerInfo, peer_reason: peerInfo ? null : peerReason,
    targets: { scaling: 1.8, vs_torch_ddp: 1.5 },
  };
}
