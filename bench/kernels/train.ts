// `troupe bench train`: tokens/s of a full training step (forward, cross-entropy, backward,
// AdamW) of the bench GPT in a workspace, against ../shared/bench/torch_gpt.py run in the same
// command with the same config, plus RSS after 10 and after 200 steps (memory must not grow).
// The peer runs at its best: every configuration of bench/peers runs in every round, the fastest
// (by median over the rounds) is the peer; the per-core comparison is troupe on one thread
// against the peer's best one-intra-op, one-BLAS-thread configuration. Rounds interleave troupe
// and the peer so that a busy minute on a shared machine hits both.
import { join } from "node:path";
import { GPT, adamw, backward, createRng, kernelInfo, randint, withKernels, workspace } from "../../kernels/mod.js";
import { type PeerCandidate, candidateJson, searchTorchPeer } from "../peers/mod.js";
import { sharedPath } from "../shared.js";

export interface TrainBenchConfig {
  readonly vocab: number;
  readonly block: number;
  readonly d: number;
  readonly heads: number;
  readonly layers: number;
  readonly batch: number;
}

export const benchConfig: TrainBenchConfig = { vocab: 256, block: 128, d: 128, heads: 4, layers: 4, batch: 16 };

export interface TrainBenchOptions {
  readonly config?: TrainBenchConfig;
  /** Steps per timed run (as torch_gpt.py: 10) and timed runs (5). */
  readonly steps?: number;
  readonly runs?: number;
  /** Total steps for the memory check (200). */
  readonly memorySteps?: number;
  /** The peer script (default <repo>/../shared/bench/torch_gpt.py); false: no peer. */
  readonly peerScript?: string | false;
  /**
   * Rounds of (troupe on all threads, troupe on one, the peer in every configuration), default 2.
   * The peer is the configuration with the best median over the rounds; each side's figure is the
   * median of all its runs.
   */
  readonly rounds?: number;
  /** progress lines (stderr in the CLI) */
  readonly onProgress?: (line: string) => void;
}

interface PeerOut {
  readonly tokens_per_s: number;
  readonly runs: number[];
  readonly version: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mb = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
const ratio = (a: number, b: number | null) => (b === null ? null : Math.round((a / b) * 100) / 100);

/** ../shared/bench/torch_gpt.py (see bench/shared.ts for how ../shared is found). */
export function defaultPeerScript(): string {
  return join(sharedPath("bench"), "torch_gpt.py");
}

/** One side's figures over all rounds. */
function side(rates: readonly number[]) {
  return rates.length ? { tokens_per_s: Math.round(median(rates)), runs: rates.map(Math.round) } : null;
}

export function runTrainBench(options: TrainBenchOptions = {}) {
  const cfg = options.config ?? benchConfig;
  const steps = options.steps ?? 10;
  const runs = options.runs ?? 5;
  const say = options.onProgress ?? (() => {});
  const memorySteps = Math.max(options.memorySteps ?? 200, 10 + 3 + steps * runs);
  const rng = createRng(0);
  const model = new GPT({ vocabSize: cfg.vocab, blockSize: cfg.block, nEmbd: cfg.d, nHead: cfg.heads, nLayer: cfg.layers }, rng);
  const opt = adamw(model, { lr: 3e-4, weightDecay: 0.01 });
  const idx = randint([cfg.batch, cfg.block], cfg.vocab, rng);
  const targets = randint([cfg.batch, cfg.block], cfg.vocab, rng);
  const ws = workspace();
  let done = 0;
  const rss: { after_10: number; after_200: number } = { after_10: 0, after_200: 0 };
  let lastLoss = NaN;
  const step = () => {
    lastLoss = ws.run(() => {
      opt.zeroGrad();
      const { loss } = model.loss(idx, targets);
      backward(loss);
      opt.step();
      return loss.item();
    });
    done++;
    if (done === 10) rss.after_10 = mb();
    if (done === memorySteps) rss.after_200 = mb();
  };
  for (let i = 0; i < 3; i++) step();
  const tokens = cfg.batch * cfg.block;
  const timed = (): number[] => {
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) step();
      rates.push((tokens * steps) / ((performance.now() - t0) / 1000));
    }
    return rates;
  };
  const timedOneThread = () => withKernels({ threads: 1 }, () => (step(), timed()));

  const script = options.peerScript === undefined ? defaultPeerScript() : options.peerScript;
  const rounds = Math.max(1, options.rounds ?? 2);
  const ours: number[] = [];
  const oursOne: number[] = [];
  let roundsDone = 0;
  const ourRound = (round: number) => {
    say(`[bench] round ${round + 1}/${rounds}: troupe on ${kernelInfo().threads} threads, then on 1`);
    ours.push(...timed());
    while (done < memorySteps && round === 0) step(); // the memory check rides on the first round
    oursOne.push(...timedOneThread());
    roundsDone = round + 1;
  };
  const search = script === false ? null : searchTorchPeer<PeerOut>({
    script,
    args: [JSON.stringify(cfg), String(steps), String(runs)],
    score: (v) => v.tokens_per_s,
    rounds,
    beforeRound: ourRound,
    onTrial: (t) => say(`[bench] peer ${t.label}: ${t.score ?? t.reason} tokens/s${t.env ? ` (OpenBLAS ${t.env.blas_core})` : ""}`),
  });
  for (let round = roundsDone; round < rounds; round++) ourRound(round); // no peer: troupe alone
  const runsOf = (c: PeerCandidate<PeerOut> | null) => (c ? c.trials.flatMap((t) => t.value!.runs) : []);

  const tokensPerS = Math.round(median(ours));
  const best = search?.best ?? null;
  const peer = side(runsOf(best));
  const peerOne = side(runsOf(search?.oneThread ?? null));
  const oneThread = Math.round(median(oursOne));
  const info = kernelInfo();
  const describe = (c: PeerCandidate<PeerOut>) => ({
    config: c.label, intra_op_threads: c.config.intraOpThreads, blas_threads: c.config.blasThreads,
    blas_kernels: c.config.blasKernels, blas_core: c.env?.blas_core ?? null,
  });
  return {
    config: cfg,
    tokens_per_s: tokensPerS,
    threads: info.threads,
    peer: peer === null || best === null ? null : {
      torch_tokens_per_s: peer.tokens_per_s, torch_runs: peer.runs, torch_version: best.env?.torch_version ?? null,
      ...describe(best),
    },
    ratio: ratio(tokensPerS, peer?.tokens_per_s ?? null),
    one_thread: {
      troupe_tokens_per_s: oneThread,
      troupe_runs: oursOne.map(Math.round),
      torch_tokens_per_s: peerOne?.tokens_per_s ?? null,
      torch_runs: peerOne?.runs ?? null,
      torch: search?.oneThread ? describe(search.oneThread) : null,
      ratio: ratio(oneThread, peerOne?.tokens_per_s ?? null),
    },
    peer_search: search ? search.candidates.map((c) => candidateJson(c, "tokens_per_s")) : null,
    runs: ours.map(Math.round),
    rounds,
    step_ms: Math.round((tokens / tokensPerS) * 1000 * 10) / 10,
    rss_mb: { ...rss, steps: memorySteps },
    workspace_mb: Math.round((ws.bytes / 2 ** 20) * 10) / 10,
    final_loss: Math.round(lastLoss * 1e4) / 1e4,
    kernels: info.kernels,
    gemm: info.blas ?? `troupe-${info.kernels}`,
    peer_reason: script === false ? "disabled" : best ? null : search?.reason ?? null,
  };
}
