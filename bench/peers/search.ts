// The peer at its best: runs any PyTorch peer script in every configuration of configs.ts, once
// per round, through torch_peer.py, which reports the BLAS the peer really ran on (library, core
// name, threads) and checks torch.mm against float64 before the script runs. A trial counts only
// if that check passed, the threads it ran with are the ones asked for, and it printed a result
// with a positive score; a configuration counts if every round's trial did, with the median of
// their scores. The best is the peer; the best one-intra-op, one-BLAS-thread configuration is
// the per-core peer. Reusable for any peer script that reads TORCH_THREADS and prints one JSON
// line (bench train, bench kernels; bench train --arch llama next).
import { existsSync } from "node:fs";
import { type PeerConfig, configLabel, isOneThread, peerConfigs, peerEnv } from "./configs.js";
import { peerScript, runScript, torchMissing } from "./run.js";

/** What torch_peer.py says about the process the peer ran in. */
export interface PeerEnvReport {
  readonly torch_version: string;
  readonly intra_op_threads: number;
  readonly blas_library: string | null;
  readonly blas_config: string | null;
  readonly blas_core: string | null;
  readonly blas_threads: number | null;
  readonly environment: Record<string, string>;
  readonly check: { readonly ok: boolean; readonly max_rel_err: number; readonly worst_margin: number };
}

export interface PeerTrial<T> {
  readonly config: PeerConfig;
  readonly label: string;
  readonly env: PeerEnvReport | null;
  readonly value: T | null;
  /** higher is better; null when the trial does not count */
  readonly score: number | null;
  /** why the trial does not count (null when it does) */
  readonly reason: string | null;
}

export interface TorchPeerOptions<T> {
  /** the peer script: reads TORCH_THREADS, prints one JSON line */
  readonly script: string;
  readonly args: readonly string[];
  /** the figure to maximise, from the script's JSON (tokens/s, a geometric mean of GFLOP/s) */
  readonly score: (value: T) => number;
  /** default: peerConfigs(baseEnv) */
  readonly configs?: readonly PeerConfig[];
  /** the environment the configurations derive from (default process.env) */
  readonly baseEnv?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** called after each trial (progress on stderr) */
  readonly onTrial?: (trial: PeerTrial<T>) => void;
}

export interface SearchOptions<T> extends TorchPeerOptions<T> {
  /**
   * Rounds (default 1): every configuration runs once per round, in an order rotated each round,
   * and is ranked by the median of its rounds' scores, so one busy minute on a shared machine
   * does not pick the peer.
   */
  readonly rounds?: number;
  /** called at the start of each round (the caller times its own side there: interleaving) */
  readonly beforeRound?: (round: number) => void;
}

/**
 * One configuration over every round. It reads as a trial (config, label, env, value, score,
 * reason) so code written against single trials keeps working: `score` is the median of the
 * rounds' scores, `value` the result of the round nearest that median, `env` the first report.
 */
export interface PeerCandidate<T> extends PeerTrial<T> {
  /** one per round, in round order */
  readonly trials: readonly PeerTrial<T>[];
}

export interface PeerSearch<T> {
  /** every configuration, in the order of `configs` */
  readonly candidates: readonly PeerCandidate<T>[];
  /** every trial, in the order they ran */
  readonly trials: readonly PeerTrial<T>[];
  /** the candidate with the best median; null when none counted */
  readonly best: PeerCandidate<T> | null;
  /** the best candidate with one intra-op and one BLAS thread */
  readonly oneThread: PeerCandidate<T> | null;
  /** why there is no best (no torch, every candidate failed) */
  readonly reason: string | null;
}

function isEnvLine(x: unknown): x is { peer_env: PeerEnvReport } {
  return typeof x === "object" && x !== null && "peer_env" in x;
}

function invalid(env: PeerEnvReport, config: PeerConfig): string | null {
  if (!env.check.ok) return `torch.mm in float32 is off float64 by ${env.check.max_rel_err.toExponential(2)} of sum|a||b| (${env.check.worst_margin.toFixed(1)}x its rounding bound): wrong results, not timed`;
  if (env.intra_op_threads !== config.intraOpThreads) return `ran with ${env.intra_op_threads} intra-op threads, not ${config.intraOpThreads}`;
  if (env.blas_threads !== null && env.blas_threads !== config.blasThreads) return `OpenBLAS ran ${env.blas_threads} threads, not ${config.blasThreads}`;
  return null;
}

/** Runs the peer once in one configuration. */
export function runTrial<T>(o: TorchPeerOptions<T>, config: PeerConfig): PeerTrial<T> {
  const base = o.baseEnv ?? process.env;
  const label = configLabel(config, base);
  const r = runScript(peerScript("torch_peer.py"), [o.script, ...o.args], { env: peerEnv(config, base), timeoutMs: o.timeoutMs });
  if (!r.value) return { config, label, env: null, value: null, score: null, reason: r.reason };
  const envLine = r.value.find(isEnvLine);
  const results = r.value.filter((x) => !isEnvLine(x));
  const env = envLine ? envLine.peer_env : null;
  const value = results.length ? (results[results.length - 1] as T) : null;
  if (!env) return { config, label, env, value, score: null, reason: "torch_peer.py printed no peer_env line" };
  const bad = invalid(env, config);
  if (bad) return { config, label, env, value, score: null, reason: bad };
  if (value === null) return { config, label, env, value, score: null, reason: "the peer printed no result" };
  let score: number;
  try {
    score = o.score(value);
  } catch (err) {
    return { config, label, env, value, score: null, reason: `the peer's result has no score: ${(err as Error).message}` };
  }
  if (!Number.isFinite(score) || score <= 0) return { config, label, env, value, score: null, reason: `the peer's score is ${score}` };
  return { config, label, env, value, score, reason: null };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function bestOf<T>(candidates: readonly PeerCandidate<T>[]): PeerCandidate<T> | null {
  let best: PeerCandidate<T> | null = null;
  for (const c of candidates) if (c.score !== null && (best === null || c.score > best.score!)) best = c;
  return best;
}

/** One configuration's rounds as a candidate: it counts only if every round did. */
export function candidateOf<T>(config: PeerConfig, label: string, trials: readonly PeerTrial<T>[]): PeerCandidate<T> {
  const env = trials.find((t) => t.env)?.env ?? null;
  const failed = trials.length ? trials.find((t) => t.score === null) : undefined;
  if (!trials.length || failed) return { config, label, trials, env, value: failed?.value ?? null, score: null, reason: failed?.reason ?? "no rounds ran" };
  const score = median(trials.map((t) => t.score!));
  const nearest = trials.reduce((a, t) => (Math.abs(t.score! - score) < Math.abs(a.score! - score) ? t : a));
  return { config, label, trials, env, value: nearest.value, score, reason: null };
}

/**
 * Runs every configuration once per round (in an order rotated each round); a configuration's
 * score is the median of its rounds, the best is the peer.
 */
export function searchTorchPeer<T>(o: SearchOptions<T>): PeerSearch<T> {
  const missing = torchMissing() ?? (existsSync(o.script) ? null : `peer script ${o.script} not found`);
  if (missing) return { candidates: [], trials: [], best: null, oneThread: null, reason: missing };
  const configs = o.configs ?? peerConfigs(o.baseEnv ?? process.env);
  const rounds = Math.max(1, o.rounds ?? 1);
  const perConfig: PeerTrial<T>[][] = configs.map(() => []);
  const all: PeerTrial<T>[] = [];
  for (let round = 0; round < rounds; round++) {
    o.beforeRound?.(round);
    for (let k = 0; k < configs.length; k++) {
      const i = (k + round) % configs.length; // rotated: no configuration always runs first
      const t = runTrial(o, configs[i]!);
      perConfig[i]!.push(t);
      all.push(t);
      o.onTrial?.(t);
    }
  }
  const base = o.baseEnv ?? process.env;
  const candidates = configs.map((config, i) => candidateOf(config, configLabel(config, base), perConfig[i]!));
  const best = bestOf(candidates);
  return {
    candidates,
    trials: all,
    best,
    oneThread: bestOf(candidates.filter((c) => isOneThread(c.config))),
    reason: best ? null : candidates.map((c) => `${c.label}: ${c.reason}`).join("; "),
  };
}

/** A single trial as the bench JSON shows it. */
export function trialJson<T>(t: PeerTrial<T>, score: string) {
  return {
    config: t.label,
    intra_op_threads: t.config.intraOpThreads,
    blas_threads: t.config.blasThreads,
    blas_kernels: t.config.blasKernels,
    blas_core: t.env?.blas_core ?? null,
    blas_config: t.env?.blas_config ?? null,
    gemm_check: t.env ? { ok: t.env.check.ok, max_rel_err: t.env.check.max_rel_err, worst_margin: Math.round(t.env.check.worst_margin * 1000) / 1000 } : null,
    [score]: t.score,
    reason: t.reason,
  };
}

/** A candidate as the bench JSON shows it: its median score, and each round's. */
export function candidateJson<T>(c: PeerCandidate<T>, score: string) {
  const env = c.env;
  const checks = c.trials.filter((t) => t.env).map((t) => t.env!.check);
  return {
    config: c.label,
    intra_op_threads: c.config.intraOpThreads,
    blas_threads: c.config.blasThreads,
    blas_kernels: c.config.blasKernels,
    blas_core: env?.blas_core ?? null,
    blas_config: env?.blas_config ?? null,
    gemm_check: checks.length ? {
      ok: checks.every((k) => k.ok),
      max_rel_err: Math.max(...checks.map((k) => k.max_rel_err)),
      worst_margin: Math.round(Math.max(...checks.map((k) => k.worst_margin)) * 1000) / 1000,
    } : null,
    [score]: c.score,
    rounds: c.trials.map((t) => t.score),
    reason: c.reason,
  };
}
