// `troupe bench allreduce --link 10gbit`: all-reduce of 8-256 MiB of f32 between two hosts (the
// rig's network namespaces, one core each, the data link shaped with tc tbf), against
//   link     a raw TCP stream on the same link, measured in the same run (raw-link.ts), and
//   gloo     torch.distributed all_reduce with the gloo backend on the same hosts and link
//            (bench/peers/torch_allreduce.py; 1 intra-op thread per one-core host).
// Rounds of (raw link, troupe, gloo) are interleaved and each side's times pooled, so one busy
// spell on the shared machine does not decide a ratio. Per call, the time is the slowest rank's;
// per size, the median call. busbw = bytes / time × 2(N−1)/N (nccl-tests' bus bandwidth).
//   efficiency = mean over sizes ≥ 64 MiB of busbw / link;  vs_gloo = the same of busbw / gloo's.
// A 2-rank ring sends and receives at once on each host, and on the rig one core per host does
// both directions' TCP work, so each round also measures two raw streams at once, one each way,
// each received by its dialer (the ring's layout): `duplex_link_GBps` (the slower direction) is
// what the link carries each way when both are busy, and `duplex_efficiency` is busbw over that.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Hosts, expectOk, finished, openHosts } from "../../hosts/mod.js";
import { python } from "../peers/mod.js";
import { repoRoot } from "../shared.js";
import { join } from "node:path";

const RANK = fileURLToPath(new URL("./allreduce-rank.js", import.meta.url));
const RAW = fileURLToPath(new URL("./raw-link.js", import.meta.url));
const GLOO = join(repoRoot, "bench", "peers", "torch_allreduce.py");

export interface AllreduceBenchOptions {
  /** tc rate of the data link (default 10gbit); null: unshaped */
  readonly link?: string | null;
  readonly sizesMiB?: readonly number[];
  readonly iters?: number;
  readonly rounds?: number;
  readonly compression?: "none" | "f16" | "bf16";
  /** loopback processes instead of namespaces (no root) */
  readonly loopback?: boolean;
  readonly peer?: boolean;
  /** the ring's segment size (default 1 MiB) */
  readonly segmentBytes?: number;
  readonly log?: (line: string) => void;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

type Rows = { bytes: number; seconds: number[]; cpu_s?: number }[];

/** Slowest rank per call, pooled over rounds: bytes → call times; and CPU seconds per call (mean over ranks). */
function pool(into: Map<number, number[]>, ranks: { rows: Rows }[], cpu: Map<number, number[]>): void {
  const rows = ranks[0]!.rows;
  rows.forEach((row, i) => {
    const times = row.seconds.map((_, k) => Math.max(...ranks.map((r) => r.rows[i]!.seconds[k]!)));
    into.set(row.bytes, [...(into.get(row.bytes) ?? []), ...times]);
    const c = ranks.map((r) => r.rows[i]!.cpu_s).filter((x): x is number => typeof x === "number");
    if (c.length) cpu.set(row.bytes, [...(cpu.get(row.bytes) ?? []), c.reduce((a, b) => a + b, 0) / c.length]);
  });
}

/** A raw stream from host `from` to host `to`, in GB/s. */
async function rawLink(h: Hosts, bytes: number, from = 0, to = 1): Promise<number> {
  const send = h.spawn(from, process.execPath, [RAW, JSON.stringify({ mode: "send", host: h.address(from), bytes })]);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    send.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    send.once("exit", () => reject(new Error(`the raw sender exited before listening: ${out}`)));
  });
  const recv = expectOk("the raw receiver", await finished(h.spawn(to, process.execPath, [RAW, JSON.stringify({ mode: "recv", host: h.address(from), port, bytes })])));
  send.kill("SIGKILL");
  return recv.GBps as number;
}

export async function runAllreduceBench(o: AllreduceBenchOptions = {}) {
  const sizes = o.sizesMiB ?? [8, 16, 32, 64, 128, 256];
  const iters = o.iters ?? 5;
  const rounds = Math.max(1, o.rounds ?? 2);
  const compression = o.compression ?? "none";
  const log = o.log ?? (() => undefined);
  const world = 2;
  const hosts = await openHosts({ hosts: world, rate: o.link === undefined ? "10gbit" : o.link, loopback: o.loopback });
  const py = python();
  const peerReason = o.peer === false ? "disabled" : !existsSync(py) ? `${py} not found` : !existsSync(GLOO) ? `${GLOO} not found` : null;
  const ours = new Map<number, number[]>();
  const gloo = new Map<number, number[]>();
  const oursCpu = new Map<number, number[]>();
  const glooCpu = new Map<number, number[]>();
  const raw: number[] = [];
  const duplex: number[] = [];
  let glooInfo: Record<string, unknown> | null = null;
  let peerError: string | null = peerReason;
  try {
    for (let round = 0; round < rounds; round++) {
      log(`[bench] allreduce round ${round + 1}/${rounds}: raw link, troupe, gloo`);
      raw.push(await rawLink(hosts, 512 << 20));
      duplex.push(Math.min(...(await Promise.all([rawLink(hosts, 512 << 20, 0, 1), rawLink(hosts, 512 << 20, 1, 0)]))));
      const run = `ar${process.pid}r${round}`;
      const ranks = await Promise.all(Array.from({ length: world }, (_, rank) => {
        const args = { nats: hosts.natsUrl, run, group: "ar", rank, world, address: hosts.address(rank), sizesMiB: sizes, iters, compression, segmentBytes: o.segmentBytes };
        return finished(hosts.spawn(rank, process.execPath, [RANK, JSON.stringify(args)], { TROUPE_LOG_LEVEL: "warn" })).then((f) => expectOk(`troupe rank ${rank}`, f));
      }));
      pool(ours, ranks as unknown as { rows: Rows }[], oursCpu);
      if (peerError === null || (glooInfo && round > 0)) {
        const port = 20000 + ((process.pid * 7 + round * 131) % 30000);
        const env = { GLOO_SOCKET_IFNAME: hosts.dataInterface, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };
        try {
          const peers = await Promise.all(Array.from({ length: world }, (_, rank) => {
            const args = { rank, world, master: hosts.address(0), port, sizesMiB: sizes, iters };
            return finished(hosts.spawn(rank, py, [GLOO, JSON.stringify(args)], env)).then((f) => expectOk(`gloo rank ${rank}`, f));
          }));
          pool(gloo, peers as unknown as { rows: Rows }[], glooCpu);
          glooInfo = { version: peers[0]!.version, threads: peers[0]!.threads, GLOO_SOCKET_IFNAME: env.GLOO_SOCKET_IFNAME };
        } catch (err) {
          peerError = (err as Error).message.slice(0, 600);
        }
      }
    }
  } finally {
    await hosts.close();
  }
  const link_GBps = median(raw);
  const duplex_link_GBps = median(duplex);
  const busbw = (bytes: number, s: number) => (bytes / s / 1e9) * ((2 * (world - 1)) / world);
  const rows = sizes.map((mib) => {
    const bytes = mib << 20;
    const t = median(ours.get(bytes)!);
    const g = gloo.get(bytes);
    const gt = g ? median(g) : null;
    const cpu = (m: Map<number, number[]>) => (m.get(bytes)?.length ? r3(median(m.get(bytes)!)) : null);
    return {
      bytes, seconds: r3(t * 1000) / 1000, busbw_GBps: r3(busbw(bytes, t)),
      gloo_seconds: gt === null ? null : r3(gt * 1000) / 1000, gloo_busbw_GBps: gt === null ? null : r3(busbw(bytes, gt)),
      // CPU seconds (user + system, all threads) a rank spent per call: what the one core paid
      cpu_s: cpu(oursCpu), gloo_cpu_s: cpu(glooCpu),
    };
  });
  const big = rows.filter((r) => r.bytes >= 64 << 20);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const efficiency = r3(mean(big.map((r) => r.busbw_GBps / link_GBps)));
  const duplex_efficiency = r3(mean(big.map((r) => r.busbw_GBps / duplex_link_GBps)));
  const vs = big.every((r) => r.gloo_busbw_GBps) ? r3(mean(big.map((r) => r.busbw_GBps / r.gloo_busbw_GBps!))) : null;
  return {
    rows, link_GBps: r3(link_GBps), efficiency, vs_gloo: vs, duplex_link_GBps: r3(duplex_link_GBps), duplex_efficiency,
    link: hosts.rate, kind: hosts.kind, hosts: world, compression, iters, rounds, segment_bytes: o.segmentBytes ?? 1 << 20,
    raw_link_runs_GBps: raw.map(r3), duplex_link_runs_GBps: duplex.map(r3),
    peer: glooInfo ? { name: "torch.distributed all_reduce, gloo backend", ...glooInfo } : null,
    peer_reason: glooInfo ? null : peerError,
    targets: { efficiency: 0.9, vs_gloo: 1 },
  };
}
