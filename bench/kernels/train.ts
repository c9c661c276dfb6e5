// `troupe bench train`: tokens/s of a full training step (forward, cross-entropy, backward,
// AdamW) of the bench GPT in a workspace, against ../shared/bench/torch_gpt.py run in the same
// command with the same config, plus RSS after 10 and after 200 steps (memory must not grow).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GPT, adamw, backward, createRng, kernelInfo, randint, workspace } from "../../kernels/mod.js";
import { sharedPath } from "../shared.js";
import { runPeer } from "./peer.js";

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
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mb = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;

/** ../shared/bench/torch_gpt.py (see bench/shared.ts for how ../shared is found). */
export function defaultPeerScript(): string {
  return join(sharedPath("bench"), "torch_gpt.py");
}

export function runTrainBench(options: TrainBenchOptions = {}) {
  const cfg = options.config ?? benchConfig;
  const steps = options.steps ?? 10;
  const runs = options.runs ?? 5;
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
  };
  for (let i = 0; i < 3; i++) step();
  const rates: number[] = [];
  const tokens = cfg.batch * cfg.block;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    rates.push((tokens * steps) / ((performance.now() - t0) / 1000));
  }
  while (done < memorySteps) step();
  rss.after_200 = mb();
  const ours = Math.round(median(rates));

  const script = options.peerScript === undefined ? defaultPeerScript() : options.peerScript;
  const peer = script === false || !existsSync(script)
    ? { value: null, reason: script === false ? "disabled" : `${script} not found` }
    : runPeer<{ tokens_per_s: number; runs: number[]; version: string }>(script, [JSON.stringify(cfg), String(steps), String(runs)]);
  const info = kernelInfo();
  return {
    config: cfg,
    tokens_per_s: ours,
    peer: peer.value ? { torch_tokens_per_s: peer.value.tokens_per_s, torch_runs: peer.value.runs, torch_version: peer.value.version } : null,
    ratio: peer.value ? Math.round((ours / peer.value.tokens_per_s) * 100) / 100 : null,
    runs: rates.map(Math.round),
    step_ms: Math.round((tokens / ours) * 1000 * 10) / 10,
    rss_mb: { ...rss, steps: done },
    workspace_mb: Math.round((ws.bytes / 2 ** 20) * 10) / 10,
    final_loss: Math.round(lastLoss * 1e4) / 1e4,
    kernels: info.kernels,
    gemm: info.blas ?? `troupe-${info.kernels}`,
    threads: info.threads,
    peer_reason: peer.reason,
  };
}
