// The rig's only way to touch the network: `ip` and `tc` run synchronously (each takes a few
// milliseconds), with their stderr folded into a RigError that names the command. Nothing
// here runs a shell: arguments go to the binary as they are.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { RigError, RigNeedsRootError } from "../errors.js";

const SEARCH = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/** Absolute path of a system binary the rig needs; a RigError naming the package otherwise. */
export function systemBinary(name: "ip" | "tc" | "taskset"): string {
  for (const dir of SEARCH) {
    const p = `${dir}/${name}`;
    if (existsSync(p)) return p;
  }
  const pkg = name === "taskset" ? "util-linux" : "iproute2";
  throw new RigError(`${name} was not found in ${SEARCH.join(", ")}; install ${pkg} (apt-get install ${pkg})`);
}

/** True when this process may create network namespaces (root; CAP_NET_ADMIN is what matters). */
export function canBuildRig(): boolean {
  return process.platform === "linux" && typeof process.getuid === "function" && process.getuid() === 0;
}

/** Throws RigNeedsRootError unless canBuildRig(). */
export function requireRoot(what: string): void {
  if (!canBuildRig()) throw new RigNeedsRootError(what);
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin args`; returns its output, or throws a RigError unless `allowFail`. */
export function run(bin: "ip" | "tc" | "taskset", args: readonly string[], opts: { allowFail?: boolean } = {}): RunResult {
  const path = systemBinary(bin);
  const r = spawnSync(path, args, { encoding: "utf8", timeout: 30_000 });
  const res = { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  if (r.error) throw new RigError(`${bin} ${args.join(" ")} could not run: ${r.error.message}`, `${bin} ${args.join(" ")}`, { cause: r.error });
  if (res.status !== 0 && !opts.allowFail) {
    const command = `${bin} ${args.join(" ")}`;
    throw new RigError(`\`${command}\` failed (exit ${res.status}): ${res.stderr.trim() || res.stdout.trim()}`, command);
  }
  return res;
}

/** `ip netns list` names. */
export function listNamespaces(): string[] {
  const r = run("ip", ["netns", "list"], { allowFail: true });
  return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

/** Interface names of the root namespace (`ip -o link show`), without the @peer suffix. */
export function listLinks(): string[] {
  const r = run("ip", ["-o", "link", "show"], { allowFail: true });
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Whether a process with this pid exists (EPERM counts as alive). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
