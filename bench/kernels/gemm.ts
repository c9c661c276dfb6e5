// `troupe bench kernels`: GEMM GFLOP/s (square and the bench GPT's own shapes) on all threads,
// the machine's measured FMA peak, fused attention timings, and PyTorch's matmul on the same
// shapes as the peer. Throughput is the median of tinybench samples.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Bench } from "tinybench";
import { kernelInfo, withKernels } from "../../kernels/mod.js";
import { native } from "../../kernels/native/load.js";
import { runPeer } from "./peer.js";

export interface GemmShape {
  readonly name: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** "NN", "NT", "TN": op(A), op(B) */
  readonly trans: "NN" | "NT" | "TN";
}

/** The GEMMs of one training step of the bench GPT (tokens = batch * block). */
export function gptShapes(tokens: number, d: number, vocab: number): GemmShape[] {
  const out: GemmShape[] = [];
  for (const [name, inF, outF] of [["qkv", d, 3 * d], ["proj", d, d], ["fc", d, 4 * d], ["fc_proj", 4 * d, d], ["lm_head", d, vocab]] as const) {
    out.push({ name: `${name} forward`, M: tokens, N: outF, K: inF, trans: "NT" });
    out.push({ name: `${name} backward dinp`, M: tokens, N: inF, K: outF, trans: "NN" });
    out.push({ name: `${name} backward dweight`, M: outF, N: inF, K: tokens, trans: "TN" });
  }
  return out;
}

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

function timeGemms(shapes: readonly GemmShape[], seconds: number): number[] {
  const nat = native();
  const bench = new Bench({ time: seconds * 1000, warmupTime: 20, iterations: 5, warmupIterations: 2 });
  for (const s of shapes) {
    const a = randomArray(s.M * s.K, 1);
    const b = randomArray(s.K * s.N, 2);
    const c = new Float32Array(s.M * s.N);
    bench.add(s.name, () => nat.gemm(c, a, b, 1, s.M, s.N, s.K, s.trans[0] === "T", s.trans[1] === "T", 1, 0));
  }
  bench.runSync();
  return shapes.map((s, i) => {
    const ms = bench.tasks[i]!.result!.latency.p50 ?? bench.tasks[i]!.result!.latency.mean;
    return round((2 * s.M * s.N * s.K) / (ms * 1e6));
  });
}

function round(x: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

export interface KernelBenchOptions {
  readonly seconds?: number;
  readonly peer?: boolean;
  readonly config?: { vocab: number; block: number; d: number; batch: number };
}

export function runKernelBench(options: KernelBenchOptions = {}) {
  const seconds = options.seconds ?? 0.25;
  const cfg = options.config ?? { vocab: 256, block: 128, d: 128, batch: 16 };
  const info = kernelInfo();
  // the best of a few probes, before and after the GEMMs: the peak is a ceiling, other
  // processes on the machine only lower a probe
  const probe = () => Math.max(...[0, 1, 2].map(() => native().fmaPeak(Math.max(0.2, seconds))));
  let peak = probe();
  const square: GemmShape[] = [128, 256, 512, 1024].map((n) => ({ name: `square ${n}`, M: n, N: n, K: n, trans: "NN" }));
  const gpt = gptShapes(cfg.batch * cfg.block, cfg.d, cfg.vocab);
  const all = [...square, ...gpt];

  const used = timeGemms(all, seconds);
  // both GEMM paths when the build has a BLAS: ours (blocked, SIMD) and the BLAS
  const alt = info.blasAvailable === null ? null : withKernels({ blas: info.blas === null ? "force" : false }, () => timeGemms(all, seconds));
  peak = Math.max(peak, probe());
  const ownG = info.blas === null ? used : alt;
  const blasG = info.blas === null ? alt : used;

  const here = dirname(fileURLToPath(import.meta.url));
  const peerScript = join(here, "..", "..", "..", "bench", "peers", "torch_gemm.py");
  const peer = options.peer === false ? { value: null, reason: "disabled" }
    : runPeer<{ gflops: number[]; threads: number; version: string }>(peerScript, [JSON.stringify(all.map((s) => [s.M, s.N, s.K, s.trans])), String(seconds * 2)]);

  const row = (s: GemmShape, i: number) => ({
    name: s.name, M: s.M, N: s.N, K: s.K, trans: s.trans,
    gflops: used[i]!,
    fraction_of_peak: round(used[i]! / peak, 3),
    own_gflops: ownG ? ownG[i]! : null,
    blas_gflops: blasG ? blasG[i]! : null,
    torch_gflops: peer.value ? peer.value.gflops[i]! : null,
    ratio_vs_torch: peer.value ? round(used[i]! / peer.value.gflops[i]!, 2) : null,
  });
  return {
    machine: { kernels: info.kernels, gemm: info.blas ?? `troupe-${info.kernels}`, blas_available: info.blasAvailable, blas_core: info.blasCore || null, threads: info.threads, cpu: info.cpu },
    fma_peak_gflops: round(peak),
    gemm: {
      square: square.map((s, i) => ({ n: s.M, ...row(s, i) })),
      gpt: gpt.map((s, i) => row(s, square.length + i)),
    },
    peer: peer.value ? { torch_version: peer.value.version, torch_threads: peer.value.threads } : null,
    peer_reason: peer.reason,
  };
}
