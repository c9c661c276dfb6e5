// The peer at its best: runs any PyTorch peer script once in every configuration of configs.ts,
// through torch_peer.py, which reports the BLAS the peer really ran on (library, core name,
// threads) and checks torch.mm against float64 before the script runs. A trial counts only if
// that check passed, the threads it ran with are the ones asked for, and it printed a result with
// a positive score; the best such trial is the peer, the best one-thread-each trial is the
// per-core peer. Reusable for any peer script that reads TORCH_THREADS and prints one JSON line.
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

export interface PeerSearch<T> {
  readonly trials: readonly PeerTrial<T>[];
  readonly best: PeerTrial<T> | null;
  /** the best trial with one intra-op and one BLAS thread */
  readonly oneThread: PeerTrial<T> | null;
  /** why there is no best (no torch, every trial failed) */
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

function bestOf<T>(trials: readonly PeerTrial<T>[]): PeerTrial<T> | null {
  let best: PeerTrial<T> | null = null;
  for (const t of trials) if (t.score !== null && (best === null || t.score > best.score!)) best = t;
  return best;
}

/** Tries every configuration once; the best is the peer. */
export function searchTorchPeer<T>(o: TorchPeerOptions<T>): PeerSearch<T> {
  const missing = torchMissing() ?? (existsSync(o.script) ? null : `peer script ${o.script} not found`);
  if (missing) return { trials: [], best: null, oneThread: null, reason: missing };
  const configs = o.configs ?? peerConfigs(o.baseEnv ?? process.env);
  const trials: PeerTrial<T>[] = [];
  for (const config of configs) {
    const t = runTrial(o, config);
    trials.push(t);
    o.onTrial?.(t);
  }
  const best = bestOf(trials);
  return {
    trials,
    best,
    oneThread: bestOf(trials.filter((t) => isOneThread(t.config))),
    reason: best ? null : trials.map((t) => `${t.label}: ${t.reason}`).join("; "),
  };
}

/** A trial as the bench JSON shows it. */
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
