// `troupe bench train --arch llama`: tokens/s of a full Llama training step (forward,
// cross-entropy, backward, AdamW) at a compute-bound size, against the same model in PyTorch
// (bench/peers/torch_llama.py) measured in the same command, plus `fraction_of_peak`: the
// model's FLOPs per second over the FMA peak measured between the rounds. The peer runs in its
// fastest configuration found by a short probe over intra-op threads × BLAS threads ×
// OPENBLAS_CORETYPE kept or unset (the knobs of ../shared/bench/torch_gpt.py); the one used is
// reported. The object is `bench train`'s, with those additions.
// Model FLOPs per token (training): 6·N (N = the weights of every matrix product, head
// included) + 6·L·T·C (causal attention: q·kᵀ and p·v over T/2 keys on average, ×3 for backward).
import { join } from "node:path";
import { Llama, adamw, backward, kernelInfo, createRng, randint, workspace } from "../../kernels/mod.js";
import { native } from "../../kernels/native/load.js";
import { repoRoot } from "../shared.js";
import { runPeer } from "./peer.js";

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
  /** Rounds of (troupe, then the peer), medians over all (default 2). */
  readonly rounds?: number;
  /** The peer script (default bench/peers/torch_llama.py); false: no peer. */
  readonly peerScript?: string | false;
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

/** The peer's environments to try: intra-op threads × BLAS threads × OPENBLAS_CORETYPE kept/unset. */
function peerConfigs(threads: number): Record<string, string | undefined>[] {
  const out: Record<string, string | undefined>[] = [];
  const core = process.env.OPENBLAS_CORETYPE;
  for (const t of [...new Set([1, threads])]) {
    for (const b of [...new Set([1, threads])]) {
      out.push({ TORCH_THREADS: String(t), OPENBLAS_NUM_THREADS: String(b) });
      if (core !== undefined) out.push({ TORCH_THREADS: String(t), OPENBLAS_NUM_THREADS: String(b), OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined });
    }
  }
  return out;
}

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(before)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

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
  const args = [JSON.stringify(cfg), String(steps), String(runs)];
  // the peer's best configuration: one short run of each candidate
  let best: { env: Record<string, string | undefined>; rate: number } | null = null;
  const probes: { env: Record<string, string | undefined>; tokens_per_s: number | null }[] = [];
  let peerReason: string | null = script === false ? "disabled" : null;
  if (script !== false) {
    for (const env of peerConfigs(kernelInfo().threads)) {
      const r = withEnv(env, () => runPeer<PeerRun>(script, [JSON.stringify(cfg), "1", "1"]));
      probes.push({ env, tokens_per_s: r.value?.tokens_per_s ?? null });
      if (r.value && (!best || r.value.tokens_per_s > best.rate)) best = { env, rate: r.value.tokens_per_s };
      if (!r.value) peerReason = r.reason;
    }
  }
  const peerRates: number[] = [];
  let peerVersion: string | null = null;
  for (let round = 0; round < rounds; round++) {
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      rates.push((tokens * steps) / ((performance.now() - t0) / 1000));
    }
    peaks.push(nat.fmaPeak(0.3));
    if (best) {
      const p = withEnv(best.env, () => runPeer<PeerRun>(script as string, args));
      if (p.value) {
        peerRates.push(...p.value.runs);
        peerVersion = p.value.version;
      } else peerReason = p.reason;
      peaks.push(nat.fmaPeak(0.3));
    }
  }
  const ours = median(rates);
  const theirs = peerRates.length ? median(peerRates) : null;
  const peak = median(peaks);
  const info = kernelInfo();
  const envLabel = (env: Record<string, string | undefined>) => Object.entries(env).map(([k, v]) => `${k}=${v ?? "(unset)"}`).join(" ");
  return {
    arch: "llama",
    config: cfg,
    tokens_per_s: Math.round(ours),
    peer: theirs === null ? null : { torch_tokens_per_s: Math.round(theirs), torch_runs: peerRates.map(Math.round), torch_version: peerVersion, torch_config: envLabel(best!.env), probes: probes.map((p) => ({ config: envLabel(p.env), tokens_per_s: p.tokens_per_s })) },
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
