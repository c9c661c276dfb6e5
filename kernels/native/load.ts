// Loads the native addon once per thread and applies the environment switches:
//   TROUPE_KERNELS=auto|avx512|avx2|portable|reference   kernel implementation (default auto)
//   TROUPE_BLAS=0|1|force                                 system BLAS for GEMM: never, when at
//                                                         least as wide as ours (default), always
//   TROUPE_THREADS=n                                      pool size (default: the CPUs this
//                                                         process may use, see threads.ts)
//   TROUPE_KERNELS_ADDON=path                             load another build of the addon
// If the addon cannot be loaded, the NativeLoadError lists the possible fixes.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ArgumentError, KernelAllocationError, NativeLoadError } from "../errors.js";
import { type ThreadBudget, threadBudget } from "./threads.js";
import type { NativeInfo, NativeKernels } from "./types.js";

export const KernelMode = {
  auto: "auto",
  avx512: "avx512",
  avx2: "avx2",
  portable: "portable",
  reference: "reference",
} as const;
export type KernelMode = (typeof KernelMode)[keyof typeof KernelMode];

const ABI_VERSION = 2;
let loaded: NativeKernels | null = null;
let budget: ThreadBudget | null = null;

function repoRoot(): string {
  // this file is <root>/kernels/native/load.ts, compiled to <root>/dist/kernels/native/load.js
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "kernels"))) return dir;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
}

/**
 * Our pool splits each GEMM across its threads: OpenBLAS must not start threads of its own. It
 * reads OPENBLAS_NUM_THREADS when the addon (and so the library) loads; the variable is put back
 * afterwards so child processes do not inherit our setting.
 */
function withOpenBlasSingleThreaded<T>(load: () => T): T {
  const before = process.env.OPENBLAS_NUM_THREADS;
  process.env.OPENBLAS_NUM_THREADS ??= "1";
  try {
    return load();
  } finally {
    if (before === undefined) delete process.env.OPENBLAS_NUM_THREADS;
  }
}

function fixes(path: string): string {
  return [
    `could not load the troupe kernels addon (${path}). Possible fixes:`,
    "  - run `npm run build` (or `node scripts/setup.mjs --force-build`) to rebuild it with node-gyp;",
    "  - install a C++17 compiler, make and python3 (Debian: apt-get install build-essential python3;",
    "    macOS: xcode-select --install);",
    "  - on Linux, install OpenBLAS (apt-get install libopenblas-dev) or rebuild without it:",
    "    TROUPE_BUILD_NO_BLAS=1 npm run build;",
    "  - the addon was built for another Node.js version or CPU architecture: rebuild it here.",
  ].join("\n");
}

function envMode(): KernelMode {
  const raw = (process.env.TROUPE_KERNELS ?? "auto").trim().toLowerCase();
  if ((Object.values(KernelMode) as string[]).includes(raw)) return raw as KernelMode;
  throw new ArgumentError(
    { op: "kernels", arg: "TROUPE_KERNELS" },
    `Expected "TROUPE_KERNELS" to be one of ${Object.values(KernelMode).join(", ")}, got ${JSON.stringify(raw)}`,
  );
}

function envThreads(): ThreadBudget {
  const raw = process.env.TROUPE_THREADS;
  if (raw !== undefined && raw !== "" && !(Number.isInteger(Number(raw)) && Number(raw) >= 1)) {
    throw new ArgumentError(
      { op: "kernels", arg: "TROUPE_THREADS" },
      `Expected "TROUPE_THREADS" to be a positive integer, got ${JSON.stringify(raw)}`,
    );
  }
  return threadBudget(raw);
}

/** The native kernels of this thread, loaded and configured on first use. */
export function native(): NativeKernels {
  if (loaded) return loaded;
  const path = process.env.TROUPE_KERNELS_ADDON || join(repoRoot(), "kernels", "native", "build", "Release", "troupe_kernels.node");
  let mod: NativeKernels;
  try {
    mod = withOpenBlasSingleThreaded(() => createRequire(import.meta.url)(path) as NativeKernels);
  } catch (err) {
    throw new NativeLoadError(fixes(path), { cause: err });
  }
  if (mod.abiVersion !== ABI_VERSION) {
    throw new NativeLoadError(`${fixes(path)}\n(the addon's ABI is ${mod.abiVersion}, expected ${ABI_VERSION})`);
  }
  const mode = envMode();
  const threads = envThreads();
  if (!mod.configure(mode, blasSetting(envBlas()), threads.threads)) {
    throw new NativeLoadError(`TROUPE_KERNELS=${mode} is not supported by this CPU or build (${JSON.stringify(mod.info().cpu)})`);
  }
  mod.setErrorClasses({ allocation: KernelAllocationError });
  budget = threads;
  loaded = mod;
  return mod;
}

/**
 * Where the default thread count came from: the CPUs this process may use (affinity mask), a
 * cgroup CPU quota, or TROUPE_THREADS; configureKernels({ threads }) overrides it later.
 */
export function kernelThreadBudget(): ThreadBudget {
  native();
  return budget!;
}

/**
 * GEMM through the system BLAS (OpenBLAS, Accelerate): true uses it when the build has one and
 * its kernels are at least as wide as ours (OpenBLAS pinned to AVX2 kernels on an AVX-512 CPU
 * loses to our AVX-512 GEMM); "force" always uses it; false never does.
 */
export type BlasSetting = boolean | "force";

function blasSetting(b: BlasSetting): number {
  return b === "force" ? 2 : b ? 1 : 0;
}

function envBlas(): BlasSetting {
  const raw = (process.env.TROUPE_BLAS ?? "1").trim().toLowerCase();
  if (raw === "force") return "force";
  if (raw === "0" || raw === "false" || raw === "off") return false;
  if (raw === "1" || raw === "true" || raw === "on" || raw === "auto") return true;
  throw new ArgumentError({ op: "kernels", arg: "TROUPE_BLAS" }, `Expected "TROUPE_BLAS" to be 0, 1 or force, got ${JSON.stringify(raw)}`);
}

export interface KernelSettings {
  /** Kernel implementation; "auto" picks the widest SIMD the CPU runs. */
  readonly mode?: KernelMode;
  readonly blas?: BlasSetting;
  /** Threads in the pool (the calling thread included). */
  readonly threads?: number;
}

/** Changes the kernel implementation, BLAS use or thread count of this thread's runtime. */
export function configureKernels(settings: KernelSettings): NativeInfo {
  const nat = native();
  const now = nat.info();
  const mode = settings.mode ?? (now.mode as KernelMode);
  if (!(Object.values(KernelMode) as string[]).includes(mode)) {
    throw new ArgumentError({ op: "configureKernels", arg: "mode" },
      `Expected "mode" to be one of ${Object.values(KernelMode).join(", ")}, got ${JSON.stringify(mode)}`);
  }
  const threads = settings.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
    throw new ArgumentError({ op: "configureKernels", arg: "threads" },
      `Expected "threads" to be an integer in [1, 64], got ${threads}`);
  }
  const blas = settings.blas === undefined ? now.blasSetting : blasSetting(settings.blas);
  if (!nat.configure(mode, blas, threads)) {
    throw new ArgumentError({ op: "configureKernels", arg: "mode" },
      `kernel mode ${JSON.stringify(mode)} is not supported by this CPU or build (cpu ${JSON.stringify(now.cpu)})`);
  }
  return nat.info();
}

/** The settings in effect (to restore them later). */
export function currentKernelSettings(): Required<KernelSettings> {
  const i = native().info();
  return { mode: i.mode as KernelMode, blas: i.blasSetting === 2 ? "force" : i.blasSetting === 1, threads: i.threads };
}

/** What the runtime runs: kernel set, BLAS, threads, CPU features. */
export function kernelInfo(): NativeInfo {
  return native().info();
}

/** Runs fn with other kernel settings, then restores the previous ones (tests, benchmarks). */
export function withKernels<T>(settings: KernelSettings, fn: () => T): T {
  const before = kernelInfo();
  configureKernels(settings);
  try {
    return fn();
  } finally {
    native().configure(before.mode, before.blasSetting, before.threads);
  }
}
