// What a checkpoint records about the compute that produced it, and what resuming on other
// compute means. The kernels are deterministic for a given kernel set, BLAS and thread count:
// our own kernels give bitwise the same results for any thread count (fixed task splits),
// while a BLAS's GEMM does not (each pool task runs it on a block whose size depends on the
// thread count, and OpenBLAS picks kernels per CPU family). A resume on other compute still
// works; it just cannot repeat the uninterrupted run bit for bit, and the log says why.
import { kernelInfo } from "../../kernels/mod.js";

/** Recorded in the trainer state of every checkpoint (older checkpoints lack blasCore). */
export interface KernelRecord {
  /** The kernel set: avx512, avx2, portable or reference. */
  readonly kernels: string;
  /** The BLAS running the GEMMs ("openblas", "accelerate"), or null for our own GEMM. */
  readonly blas: string | null;
  /** The BLAS's kernel family (OpenBLAS core name), "" when unknown or no BLAS. */
  readonly blasCore?: string;
  /** Threads of the kernel pool. */
  readonly threads: number;
}

export function currentKernels(): KernelRecord {
  const k = kernelInfo();
  return { kernels: k.kernels, blas: k.blas, blasCore: k.blas ? k.blasCore : "", threads: k.threads };
}

export interface KernelChange {
  /** "field saved → now" for every recorded field that differs. */
  readonly changes: string[];
  /** Whether the continuation can still be bitwise identical to the uninterrupted run. */
  readonly bitwise: boolean;
}

/** How `now` differs from `saved` (fields an older checkpoint did not record are not compared). */
export function kernelChange(saved: KernelRecord, now: KernelRecord): KernelChange {
  const changes: string[] = [];
  const show = (v: unknown) => (v === null ? "none" : v === "" ? "unknown" : String(v));
  if (saved.kernels !== now.kernels) changes.push(`kernels ${show(saved.kernels)} → ${show(now.kernels)}`);
  if (saved.blas !== now.blas) changes.push(`BLAS ${show(saved.blas)} → ${show(now.blas)}`);
  if (saved.blasCore !== undefined && saved.blas !== null && saved.blas === now.blas && saved.blasCore !== now.blasCore) {
    changes.push(`BLAS kernels ${show(saved.blasCore)} → ${show(now.blasCore)}`);
  }
  const threadsOnly = changes.length === 0;
  if (saved.threads !== now.threads) changes.push(`threads ${saved.threads} → ${now.threads}`);
  // without a BLAS on either side, the thread count alone changes no result
  const bitwise = changes.length === 0 || (threadsOnly && saved.blas === null && now.blas === null);
  return { changes, bitwise };
}
