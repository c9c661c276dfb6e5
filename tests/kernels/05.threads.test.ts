// kernels - the pool's size follows the CPUs the process may use: its affinity mask (taskset, a
// cpuset) and its cgroup CPU quota, not the machine's cores; more threads than CPUs stay
// correct. guards #16 (item 12: every process got a pool of all cores, 2 threads under
// `taskset -c 0`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { K } from "./helpers.js";

const modUrl = new URL("../../kernels/mod.js", import.meta.url).href;

/** A fake /proc and cgroup filesystem: path → content. */
const fakeFs = (files: Record<string, string>) => (path: string) => files[path] ?? null;

const V1_MOUNTS = [
  "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct",
  "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
].join("\n");
const V2_MOUNTS = "35 25 0:30 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw";

test("threads - a cgroup v1 quota caps the pool, rounded down, the tightest ancestor winning", () => {
  const read = fakeFs({
    "/proc/self/cgroup": "4:memory:/job\n3:cpu,cpuacct:/job/step\n",
    "/proc/self/mountinfo": V1_MOUNTS,
    "/sys/fs/cgroup/cpu,cpuacct/job/step/cpu.cfs_quota_us": "-1\n",
    "/sys/fs/cgroup/cpu,cpuacct/job/step/cpu.cfs_period_us": "100000\n",
    "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us": "250000\n",
    "/sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us": "100000\n",
    "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
    "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
  });
  assert.equal(K.cgroupCpuQuota(read), 2.5);
  assert.deepEqual(K.threadBudget(undefined, read, 8), { threads: 2, cpus: 8, quota: 2.5, source: "cgroup" });
  assert.deepEqual(K.threadBudget(undefined, read, 2), { threads: 2, cpus: 2, quota: 2.5, source: "cpus" }, "the affinity mask is tighter");
  assert.deepEqual(K.threadBudget("6", read, 8), { threads: 6, cpus: 8, quota: 2.5, source: "TROUPE_THREADS" });
});

test("threads - a cgroup v2 cpu.max caps the pool; a quota below one CPU still runs one thread", () => {
  const files = {
    "/proc/self/cgroup": "0::/user.slice/run-1.scope\n",
    "/proc/self/mountinfo": V2_MOUNTS,
    "/sys/fs/cgroup/user.slice/run-1.scope/cpu.max": "max 100000\n",
    "/sys/fs/cgroup/user.slice/cpu.max": "150000 100000\n",
  };
  assert.equal(K.cgroupCpuQuota(fakeFs(files)), 1.5);
  assert.deepEqual(K.threadBudget(undefined, fakeFs(files), 4), { threads: 1, cpus: 4, quota: 1.5, source: "cgroup" });
  const tiny = { ...files, "/sys/fs/cgroup/user.slice/cpu.max": "20000 100000\n" };
  assert.equal(K.threadBudget(undefined, fakeFs(tiny), 4).threads, 1);
});

test("threads - inside a container (the mount's root is the container's cgroup) the quota is found", () => {
  const read = fakeFs({
    "/proc/self/cgroup": "0::/docker/abc123\n",
    "/proc/self/mountinfo": "35 25 0:30 /docker/abc123 /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
    "/sys/fs/cgroup/cpu.max": "300000 100000\n",
  });
  assert.equal(K.cgroupCpuQuota(read), 3);
  assert.equal(K.threadBudget(undefined, read, 16).threads, 3);
});

test("threads - no quota, no cgroup filesystem or garbage: the CPUs decide", () => {
  const none = fakeFs({ "/proc/self/cgroup": "0::/\n", "/proc/self/mountinfo": V2_MOUNTS, "/sys/fs/cgroup/cpu.max": "max 100000\n" });
  assert.equal(K.cgroupCpuQuota(none), null);
  assert.deepEqual(K.threadBudget(undefined, none, 3), { threads: 3, cpus: 3, quota: null, source: "cpus" });
  assert.equal(K.cgroupCpuQuota(fakeFs({})), null);
  assert.equal(K.cgroupCpuQuota(fakeFs({ "/proc/self/cgroup": "junk", "/proc/self/mountinfo": "junk - more" })), null);
  const bad = fakeFs({ "/proc/self/cgroup": "0::/\n", "/proc/self/mountinfo": V2_MOUNTS, "/sys/fs/cgroup/cpu.max": "abc def\n" });
  assert.equal(K.cgroupCpuQuota(bad), null);
});

/** kernelInfo().threads and the budget of a child node, run through `prefix` (taskset, sh). */
function childThreads(prefix: string[], env: NodeJS.ProcessEnv = {}) {
  const script = `import(${JSON.stringify(modUrl)}).then((K) => console.log(JSON.stringify({ threads: K.kernelInfo().threads, budget: K.kernelThreadBudget() })))`;
  const [cmd, ...args] = [...prefix, process.execPath, "--input-type=module", "-e", script];
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.TROUPE_THREADS;
  const r = spawnSync(cmd!, args, { encoding: "utf8", env: { ...e, ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as { threads: number; budget: K.ThreadBudget };
}

const hasTaskset = spawnSync("taskset", ["-V"]).status === 0;

test("threads - under taskset -c 0 the pool has one thread", { skip: hasTaskset ? false : "taskset is not installed" }, () => {
  const r = childThreads(["taskset", "-c", "0"]);
  assert.equal(r.threads, 1);
  assert.equal(r.budget.cpus, 1);
  // and TROUPE_THREADS still wins when a user asks for more
  assert.equal(childThreads(["taskset", "-c", "0"], { TROUPE_THREADS: "3" }).threads, 3);
});

const CPU_V1 = "/sys/fs/cgroup/cpu";
const cgroupSkip = (): string | false => {
  if (availableParallelism() < 2) return "needs 2 CPUs to see a 1-CPU quota cap the pool";
  if (process.getuid?.() !== 0) return "needs root to make a cgroup";
  if (!existsSync(join(CPU_V1, "cpu.cfs_quota_us"))) return `no cgroup v1 cpu controller at ${CPU_V1}`;
  return false;
};

test("threads - in a real cgroup with a one-CPU quota the pool has one thread", { skip: cgroupSkip() }, (t) => {
  const dir = join(CPU_V1, `troupe-test-${process.pid}`);
  try {
    mkdirSync(dir);
  } catch (err) {
    t.skip(`cannot make a cgroup here: ${(err as Error).message}`);
    return;
  }
  try {
    writeFileSync(join(dir, "cpu.cfs_period_us"), "100000");
    writeFileSync(join(dir, "cpu.cfs_quota_us"), "100000");
    const r = childThreads(["sh", "-c", `echo $$ > ${join(dir, "cgroup.procs")} && exec "$0" "$@"`]);
    assert.equal(r.threads, 1);
    assert.deepEqual({ quota: r.budget.quota, source: r.budget.source }, { quota: 1, source: "cgroup" });
  } finally {
    rmdirSync(dir); // the child has exited, so the cgroup is empty
  }
});

test("threads - four threads on one CPU give the one-thread results bitwise (blocking waits, no lost task)", { skip: hasTaskset ? false : "taskset is not installed" }, () => {
  // 120 pool jobs per thread count, each split into several tasks; small tensors so that it
  // also runs under qemu emulation on one CPU (check:arm64) well inside the timeout
  const script = `import(${JSON.stringify(modUrl)}).then((K) => {
    const rng = K.createRng(3);
    const x = K.randn([8, 64, 96], rng), w = K.randn([96, 96], rng), b = K.randn([96], rng);
    const run = () => { let h = x; for (let i = 0; i < 20; i++) h = K.gelu(K.layerNorm(K.linear(h, w), b, b)); return Array.from(h.f32().subarray(0, 64)); };
    const four = K.withKernels({ threads: 4, blas: false }, run);
    const one = K.withKernels({ threads: 1, blas: false }, run);
    console.log(JSON.stringify({ same: JSON.stringify(four) === JSON.stringify(one), finite: four.every(Number.isFinite) }));
  })`;
  const r = spawnSync("taskset", ["-c", "0", process.execPath, "--input-type=module", "-e", script], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.signal ? `killed by ${r.signal} (a hang, or too slow)` : ""} ${r.stderr}`);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { same: true, finite: true });
});
