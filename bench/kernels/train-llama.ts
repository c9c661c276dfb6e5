// `troupe bench train --arch llama`: tokens/s of a full Llama training step (forward,
// cross-entropy, backward, AdamW) at a compute-bound size, against the same model in PyTorch
// (bench/peers/torch_llama.py) measured in the same command, plus `fraction_of_peak`: the
// model's FLOPs per second over the FMA peak measured between the rounds. The peer runs at its
// best: bench/peers runs it in every configuration (intra-op threads × BLAS threads ×
// OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE kept or unset, checked against float64) in every round, and
// the configuration with the best median is the peer; the one used is reported. The object is
// `bench train`'s, with those additions.
// Model FLOPs per token (training): 6·N (N = the weights of every matrix product, head
// included) + 6·L·T·C (causal attention: q·kᵀ and p·v over T/2 keys on average, ×3 for backward).
import { join } from "node:path";
import { Llama, adamw, backward, kernelInfo, createRng, randint, workspace } from "../../kernels/mod.js";
import { native } from "../../kernels/native/load.js";
import { repoRoot } from "../shared.js";
import { type PeerCandidate, candidateJson, searchTorchPeer } from "../peers/mod.js";

export interface LlamaBenchConfig {
  readonly vocab: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly heads: number;
  readonly kv_heads: number;
  readonly layers: number;
  readonly seq: number;
  readonly batch: number;
}

/** Hidden 512, 8 layers, 8 heads, 4 kv heads, sequence 256 (issue 15); SwiGLU 2.75× (TinyLlama's ratio). */
export const llamaBenchConfig: LlamaBenchConfig = { vocab: 8192, hidden: 512, intermediate: 1408, heads: 8, kv_heads: 4, layers: 8, seq: 256, batch: 8 };

export interface LlamaBenchOptions {
  readonly config?: LlamaBenchConfig;
  /** Steps per timed run (3) and timed runs per round (3). */
  readonly steps?: number;
  readonly runs?: number;
  /** Rounds of (troupe, then the peer in every configuration), medians over all (default 2). */
  readonly rounds?: number;
  /** The peer script (default bench/peers/torch_llama.py); false: no peer. */
  readonly peerScript?: string | false;
  /** progress lines (stderr in the CLI) */
  readonly onProgress?: (line: string) => void;
}

export function defaultLlamaPeer(): string {
  return join(repoRoot, "bench", "peers", "torch_llama.py");
}

/** Model FLOPs of one training token. */
export function llamaFlopsPerToken(c: LlamaBenchConfig): number {
  const hs = c.hidden / c.heads;
  const perLayer = c.hidden * c.heads * hs * 2 + 2 * c.hidden * c.kv_heads * hs + 3 * c.hidden * c.intermediate;
  const N = c.layers * perLayer + c.hidden * c.vocab;
  return 6 * N + 6 * c.layers * c.seq * c.hidden;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mb = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

type PeerRun = { tokens_per_s: number; runs: number[]; version: string; threads: number };

export function runLlamaTrainBench(options: LlamaBenchOptions = {}) {
  const cfg = options.config ?? llamaBenchConfig;
  const steps = options.steps ?? 3;
  const runs = options.runs ?? 3;
  const rounds = Math.max(1, options.rounds ?? 2);
  const rng = createRng(0);
  const model = new Llama({ vocabSize: cfg.vocab, hiddenSize: cfg.hidden, intermediateSize: cfg.intermediate, numHeads: cfg.heads, numKvHeads: cfg.kv_heads, numLayers: cfg.layers, maxPositions: cfg.seq }, rng);
  const opt = adamw(model, { lr: 3e-4, weightDecay: 0.01 });
  const idx = randint([cfg.batch, cfg.seq], cfg.vocab, rng);
  const targets = randint([cfg.batch, cfg.seq], cfg.vocab, rng);
  const ws = workspace();
  let lastLoss = NaN;
  let done = 0;
  const rss = { after_10: 0 };
  const step = () => {
    lastLoss = ws.run(() => {
      opt.zeroGrad();
      const { loss } = model.loss(idx, targets);
      backward(loss);
      opt.step();
      return loss.item();
    });
    if (++done === 10) rss.after_10 = mb();
  };
  for (let i = 0; i < 2; i++) step();
  const tokens = cfg.batch * cfg.seq;
  const flopsPerToken = llamaFlopsPerToken(cfg);
  const nat = native();
  const peaks: number[] = [nat.fmaPeak(0.3)];
  const rates: number[] = [];
  const script = options.peerScript === undefined ? defaultLlamaPeer() : options.peerScript;
  const say = options.onProgress ?? (() => {});
  let roundsDone = 0;
  const ourRound = (round: number) => {
    say(`[bench] round ${round + 1}/${rounds}: troupe on ${kernelInfo().threads} threads`);
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      rates.push((tokens * steps) / ((performance.now() - t0) / 1000));
    }
    peaks.push(nat.fmaPeak(0.3));
    roundsDone = round + 1;
  };
  const search = script === false ? null : searchTorchPeer<PeerRun>({
    script,
    args: [JSON.stringify(cfg), String(steps), String(runs)],
    score: (v) => v.tokens_per_s,
    rounds,
    beforeRound: ourRound,
    onTrial: (t) => say(`[bench] peer ${t.label}: ${t.score ?? t.reason} tokens/s${t.env ? ` (OpenBLAS ${t.env.blas_core})` : ""}`),
  });
  for (let round = roundsDone; round < rounds; round++) ourRound(round); // no peer: troupe alone
  peaks.push(nat.fmaPeak(0.3));
  const best: PeerCandidate<PeerRun> | null = search?.best ?? null;
  const peerRates = best ? best.trials.flatMap((t) => t.value!.runs) : [];
  const peerReason = script === false ? "disabled" : search?.reason ?? null;
  const ours = median(rates);
  const theirs = peerRates.length ? median(peerRates) : null;
  const peak = median(peaks);
  const info = kernelInfo();
  return {
    arch: "llama",
    config: cfg,
    tokens_per_s: Math.round(ours),
    peer: theirs === null || best === null ? null : {
      torch_tokens_per_s: Math.round(theirs), torch_runs: peerRates.map(Math.round), torch_version: best.env?.torch_version ?? null,
      torch_config: best.label, intra_op_threads: best.config.intraOpThreads, blas_threads: best.config.blasThreads,
      blas_kernels: best.config.blasKernels, blas_core: best.env?.blas_core ?? null,
    },
    peer_search: search ? search.candidates.map((c) => candidateJson(c, "tokens_per_s")) : null,
    ratio: theirs === null ? null : round(ours / theirs),
    fraction_of_peak: round((ours * flopsPerToken) / (peak * 1e9), 3),
    model_gflops: round((ours * flopsPerToken) / 1e9, 1),
    fma_peak_gflops: round(peak, 1),
    fma_peak_probes: peaks.map((p) => round(p, 1)),
    flops_per_token: flopsPerToken,
    parameters: model.parameters().reduce((n, p) => n + p.size, 0),
    runs: rates.map(Math.round),
    rounds,
    step_ms: Math.round((tokens / ours) * 1000),
    rss_mb: rss,
    workspace_mb: Math.round((ws.bytes / 2 ** 20) * 10) / 10,
    final_loss: Math.round(lastLoss * 1e4) / 1e4,
    kernels: info.kernels,
    gemm: info.blas ?? `troupe-${info.kernels}`,
    threads: info.threads,
    peer_reason: theirs === null ? peerReason : null,
  };
}
