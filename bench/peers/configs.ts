// The configurations a PyTorch peer is tried in, and the environment that puts a peer process in
// one. A peer runs at its fastest only if someone looked: intra-op threads × BLAS threads × the
// OpenBLAS kernel choice of the environment (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE as set, or
// both unset so OpenBLAS picks kernels for the CPU it detects).
import { availableParallelism } from "node:os";

/** The variables that pin OpenBLAS's kernel family; kept or unset together. */
export const BLAS_KERNEL_VARIABLES = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] as const;

export const BlasKernels = {
  /** OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as the environment sets them */
  environment: "environment",
  /** both unset: OpenBLAS detects the CPU */
  unset: "unset",
} as const;
export type BlasKernels = (typeof BlasKernels)[keyof typeof BlasKernels];

export interface PeerConfig {
  /** torch.set_num_threads (the peer script reads TORCH_THREADS) */
  readonly intraOpThreads: number;
  /** OPENBLAS_NUM_THREADS */
  readonly blasThreads: number;
  readonly blasKernels: BlasKernels;
}

/** The environment's OpenBLAS kernel pins (empty when it sets none). */
export function blasKernelPins(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of BLAS_KERNEL_VARIABLES) if (env[k] !== undefined) out[k] = env[k]!;
  return out;
}

/** 1, 2, 4, ... up to the machine's cores, and the core count itself: on 2 cores, 1 and 2. */
export function threadCounts(cores = availableParallelism()): number[] {
  const out = new Set<number>();
  for (let n = 1; n < cores; n *= 2) out.add(n);
  out.add(Math.max(1, cores));
  return [...out];
}

/**
 * Every configuration to try: intra-op threads × BLAS threads × (the environment's kernel pins,
 * when it has any, and unset). Without pins the two kernel choices are the same run, so only
 * "unset" is listed.
 */
export function peerConfigs(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): PeerConfig[] {
  const kernels: BlasKernels[] = Object.keys(blasKernelPins(env)).length ? [BlasKernels.environment, BlasKernels.unset] : [BlasKernels.unset];
  const out: PeerConfig[] = [];
  for (const blasKernels of kernels) {
    for (const intraOpThreads of threadCounts(cores)) {
      for (const blasThreads of threadCounts(cores)) out.push({ intraOpThreads, blasThreads, blasKernels });
    }
  }
  return out;
}

/** The child environment for one configuration, derived from `base`. */
export function peerEnv(config: PeerConfig, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, TORCH_THREADS: String(config.intraOpThreads), OPENBLAS_NUM_THREADS: String(config.blasThreads) };
  if (config.blasKernels === BlasKernels.unset) for (const k of BLAS_KERNEL_VARIABLES) delete env[k];
  return env;
}

/** "intra-op 2 + BLAS 1, core type unset" */
export function configLabel(config: PeerConfig, base: NodeJS.ProcessEnv = process.env): string {
  const pins = Object.entries(blasKernelPins(base)).map(([k, v]) => `${k}=${v}`).join(" ");
  const kernels = config.blasKernels === BlasKernels.unset ? "core type unset" : `environment's ${pins}`;
  return `intra-op ${config.intraOpThreads} + BLAS ${config.blasThreads}, ${kernels}`;
}

/** The one-thread-each configuration (a per-core comparison): intra-op 1 + BLAS 1. */
export function isOneThread(config: PeerConfig): boolean {
  return config.intraOpThreads === 1 && config.blasThreads === 1;
}
