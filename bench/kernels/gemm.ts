// `troupe bench kernels`: GEMM GFLOP/s (square and the bench GPT's own shapes) on all threads and
// on one, the machine's measured FMA peak, and PyTorch's matmul on the same shapes as the peer, in
// its fastest configuration (bench/peers searches them) and in its best one-thread-each one.
// Rounds interleave troupe and every peer configuration; each figure is a median over rounds of
// per-round medians of tinybench samples.
import { Bench } from "tinybench";
import { kernelInfo, withKernels } from "../../kernels/mod.js";
import { native } from "../../kernels/native/load.js";
import { type PeerCandidate, candidateJson, peerScript, searchTorchPeer } from "../peers/mod.js";

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
  /** rounds of (troupe, every peer configuration), default 2; figures are medians over rounds */
  readonly rounds?: number;
  readonly config?: { vocab: number; block: number; d: number; batch: number };
  /** progress lines (stderr in the CLI) */
  readonly onProgress?: (line: string) => void;
}

interface PeerOut {
  readonly gflops: number[];
  readonly threads: number;
  readonly version: string;
}

function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const ratio = (a: number, b: number | null | undefined) => (b ? round(a / b, 2) : null);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per shape, the median over rounds (each round: one GFLOP/s per shape). */
function perShape(rounds: readonly (readonly number[])[]): number[] {
  return rounds[0]!.map((_, i) => round(median(rounds.map((r) => r[i]!))));
}

export function runKernelBench(options: KernelBenchOptions = {}) {
  const seconds = options.seconds ?? 0.25;
  const say = options.onProgress ?? (() => {});
  const cfg = options.config ?? { vocab: 256, block: 128, d: 128, batch: 16 };
  const info = kernelInfo();
  // the best of a few probes, before and after the GEMMs: the peak is a ceiling, other
  // processes on the machine only lower a probe
  const probe = () => Math.max(...[0, 1, 2].map(() => native().fmaPeak(Math.max(0.2, seconds))));
  let peak = probe();
  const square: GemmShape[] = [128, 256, 512, 1024].map((n) => ({ name: `square ${n}`, M: n, N: n, K: n, trans: "NN" }));
  const gpt = gptShapes(cfg.batch * cfg.block, cfg.d, cfg.vocab);
  const all = [...square, ...gpt];

  const rounds = Math.max(1, options.rounds ?? 2);
  const usedR: number[][] = [];
  const altR: number[][] = [];
  const oneR: number[][] = [];
  let roundsDone = 0;
  const ourRound = (r: number) => {
    say(`[bench] round ${r + 1}/${rounds}: troupe GEMMs on ${info.threads} threads, then on 1`);
    usedR.push(timeGemms(all, seconds));
    // both GEMM paths when the build has a BLAS: ours (blocked, SIMD) and the BLAS
    if (info.blasAvailable !== null) altR.push(withKernels({ blas: info.blas === null ? "force" : false }, () => timeGemms(all, seconds)));
    oneR.push(withKernels({ threads: 1 }, () => timeGemms(all, seconds)));
    roundsDone = r + 1;
  };
  const search = options.peer === false ? null : searchTorchPeer<PeerOut>({
    script: peerScript("torch_gemm.py"),
    args: [JSON.stringify(all.map((s) => [s.M, s.N, s.K, s.trans])), String(seconds * 2)],
    score: (v) => round(geomean(v.gflops)),
    rounds,
    beforeRound: ourRound,
    onTrial: (t) => say(`[bench] peer ${t.label}: ${t.score ?? t.reason} GFLOP/s geomean${t.env ? ` (OpenBLAS ${t.env.blas_core})` : ""}`),
  });
  for (let r = roundsDone; r < rounds; r++) ourRound(r); // no peer: troupe alone
  peak = Math.max(peak, probe());
  const used = perShape(usedR);
  const usedOne = perShape(oneR);
  const alt = altR.length ? perShape(altR) : null;
  const ownG = info.blas === null ? used : alt;
  const blasG = info.blas === null ? alt : used;
  /** a counted candidate's GFLOP/s per shape: the median over its rounds */
  const gflopsOf = (c: PeerCandidate<PeerOut> | null | undefined) => (c && c.score !== null ? perShape(c.trials.map((t) => t.value!.gflops)) : null);
  const best = gflopsOf(search?.best);
  const one = gflopsOf(search?.oneThread);
  const counted = (search?.candidates ?? []).map(gflopsOf).filter((g): g is number[] => g !== null);

  const row = (s: GemmShape, i: number) => ({
    name: s.name, M: s.M, N: s.N, K: s.K, trans: s.trans,
    gflops: used[i]!,
    fraction_of_peak: round(used[i]! / peak, 3),
    own_gflops: ownG ? ownG[i]! : null,
    blas_gflops: blasG ? blasG[i]! : null,
    torch_gflops: best ? best[i]! : null,
    ratio_vs_torch: ratio(used[i]!, best?.[i]),
    /** the peer's best on this shape over every configuration that counted (medians over rounds) */
    torch_max_gflops: counted.length ? Math.max(...counted.map((g) => g[i]!)) : null,
    gflops_1t: usedOne[i]!,
    torch_gflops_1t: one ? one[i]! : null,
    ratio_vs_torch_1t: ratio(usedOne[i]!, one?.[i]),
  });
  const rows = all.map(row);
  const describe = (c: PeerCandidate<PeerOut>) => ({
    config: c.label, intra_op_threads: c.config.intraOpThreads, blas_threads: c.config.blasThreads,
    blas_kernels: c.config.blasKernels, blas_core: c.env?.blas_core ?? null, torch_version: c.env?.torch_version ?? null,
    /** median over rounds of each round's geometric mean (what ranks the configurations) */
    geomean_gflops: c.score,
  });
  return {
    machine: { kernels: info.kernels, gemm: info.blas ?? `troupe-${info.kernels}`, blas_available: info.blasAvailable, blas_core: info.blasCore || null, threads: info.threads, cpu: info.cpu },
    fma_peak_gflops: round(peak),
    gemm: {
      square: square.map((s, i) => ({ n: s.M, ...rows[i]! })),
      gpt: rows.slice(square.length),
    },
    /** geometric means over every shape: troupe on all threads vs the peer's best configuration,
     * and troupe on 1 thread vs the peer's best intra-op 1 + BLAS 1 configuration */
    summary: {
      geomean_gflops: round(geomean(used)),
      torch_geomean_gflops: best ? round(geomean(best)) : null,
      ratio_vs_torch: ratio(geomean(used), best ? geomean(best) : null),
      geomean_gflops_1t: round(geomean(usedOne)),
      torch_geomean_gflops_1t: one ? round(geomean(one)) : null,
      ratio_vs_torch_1t: ratio(geomean(usedOne), one ? geomean(one) : null),
    },
    peer: search?.best && best ? describe(search.best) : null,
    peer_one_thread: search?.oneThread && one ? describe(search.oneThread) : null,
    peer_search: search ? search.candidates.map((c) => candidateJson(c, "geomean_gflops")) : null,
    rounds,
    peer_reason: options.peer === false ? "disabled" : search?.reason ?? null,
  };
}
