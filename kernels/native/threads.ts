// How many kernel threads this process should run: the CPUs it may use, not the machine's
// cores. os.availableParallelism() follows the affinity mask (taskset, a container's cpuset);
// a cgroup CPU quota (Docker --cpus, Kubernetes limits: cgroup v2 cpu.max, v1
// cpu.cfs_quota_us / cpu.cfs_period_us, the tightest along the cgroup's ancestors) caps it
// further, rounded down (a 1.5-CPU quota runs 1 thread: a second one would be throttled).
// TROUPE_THREADS overrides both. Threads past what the CPUs give only wait for one another.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, posix } from "node:path";

export interface ThreadBudget {
  /** The pool size to use. */
  readonly threads: number;
  /** CPUs in the affinity mask (os.availableParallelism()). */
  readonly cpus: number;
  /** The cgroup CPU quota in CPUs (e.g. 1.5), or null when there is none. */
  readonly quota: number | null;
  /** What decided `threads`. */
  readonly source: "cpus" | "cgroup" | "TROUPE_THREADS";
}

/** Reads a text file, or null when it does not exist or cannot be read. */
export type ReadText = (path: string) => string | null;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

/** The cgroup path and ancestors up to the root: /a/b → [/a/b, /a, /]. */
function lineage(path: string): string[] {
  const out: string[] = [];
  let p = posix.normalize(path || "/");
  for (;;) {
    out.push(p);
    if (p === "/") return out;
    p = posix.dirname(p);
  }
}

interface Mount {
  readonly root: string;
  readonly point: string;
  readonly fstype: string;
  readonly options: string[];
}

/** /proc/self/mountinfo: "id parent maj:min root mountpoint opts ... - fstype source superopts". */
function cgroupMounts(mountinfo: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const f = left.split(" ");
    const [fstype, , superOpts] = right.split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    mounts.push({ root: f[3] ?? "/", point: f[4] ?? "", fstype, options: (superOpts ?? "").split(",") });
  }
  return mounts;
}

/** `path` relative to the mount's root ("/" for the root itself), or null when outside it. */
function relative(mount: Mount, path: string): string | null {
  const root = mount.root === "/" ? "" : mount.root;
  if (root && path !== root && !path.startsWith(`${root}/`)) return null;
  return path.slice(root.length) || "/";
}

/** quota / period in CPUs, or null for no limit. */
function ratio(quota: number, period: number): number | null {
  return Number.isFinite(quota) && quota > 0 && Number.isFinite(period) && period > 0 ? quota / period : null;
}

function tightest(values: (number | null)[]): number | null {
  const set = values.filter((v): v is number => v !== null);
  return set.length ? Math.min(...set) : null;
}

/**
 * The CPU quota of this process's cgroup in CPUs (cgroup v2 and v1), the tightest along its
 * ancestors; null when there is none (or no cgroup filesystem). `read` is injectable (tests).
 */
export function cgroupCpuQuota(read: ReadText = readText): number | null {
  const cgroups = read("/proc/self/cgroup");
  const mountinfo = read("/proc/self/mountinfo");
  if (!cgroups || !mountinfo) return null;
  const mounts = cgroupMounts(mountinfo);
  const found: (number | null)[] = [];
  for (const line of cgroups.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    const v2 = id === "0" && controllers === "";
    if (!v2 && !controllers.split(",").includes("cpu")) continue;
    for (const mount of mounts) {
      if (v2 ? mount.fstype !== "cgroup2" : mount.fstype !== "cgroup" || !mount.options.includes("cpu")) continue;
      const rel = relative(mount, path);
      if (rel === null) continue;
      for (const p of lineage(rel)) {
        const dir = join(mount.point, p);
        if (v2) {
          // cpu.max: "max 100000" (none) or "150000 100000"
          const text = read(join(dir, "cpu.max"));
          if (!text) continue;
          const [q, per] = text.trim().split(/\s+/);
          found.push(q === "max" ? null : ratio(Number(q), Number(per)));
        } else {
          // cpu.cfs_quota_us (-1: none) / cpu.cfs_period_us
          const q = read(join(dir, "cpu.cfs_quota_us"));
          const per = read(join(dir, "cpu.cfs_period_us"));
          if (q !== null && per !== null) found.push(ratio(Number(q.trim()), Number(per.trim())));
        }
      }
    }
  }
  return tightest(found);
}

/** The thread count for the kernel pool (see the file comment); `env` is TROUPE_THREADS. */
export function threadBudget(env: string | undefined, read: ReadText = readText, cpus = availableParallelism()): ThreadBudget {
  const quota = cgroupCpuQuota(read);
  if (env !== undefined && env !== "") return { threads: Number(env), cpus, quota, source: "TROUPE_THREADS" };
  const capped = quota === null ? cpus : Math.max(1, Math.min(cpus, Math.floor(quota)));
  return { threads: Math.min(capped, 64), cpus, quota, source: capped < cpus ? "cgroup" : "cpus" };
}
