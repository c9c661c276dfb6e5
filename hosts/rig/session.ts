// Running processes on several "hosts" for the multi-host chaos commands and benches: the
// network-namespace rig (root: N namespaces, shaped data links, one core each) with a
// nats-server on its control bridge, or plain loopback processes with an embedded server when
// asked (no namespaces, no shaping, no pinning: said so in every report as kind "loopback").
import { type ChildProcess, spawn } from "node:child_process";
import { startNatsServer } from "../nats/launcher.js";
import { canBuildRig, requireRoot } from "./command.js";
import { sweepRigs } from "./names.js";
import { createRig } from "./rig.js";

export interface Hosts {
  /** "namespaces" (the rig) or "loopback" */
  readonly kind: "namespaces" | "loopback";
  readonly natsUrl: string;
  /** data address of host i (where its links listen) */
  address(i: number): string;
  /** the data interface name (GLOO_SOCKET_IFNAME for peers), or "lo" */
  readonly dataInterface: string;
  readonly rate: string | null;
  /** spawns `cmd args` on host i (pinned to its cores in the rig) */
  spawn(i: number, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  shape(rate: string | null): void;
  close(): Promise<void>;
}

export interface HostsOptions {
  readonly hosts: number;
  readonly rate: string | null;
  /** use loopback processes even when root (no shaping, no pinning) */
  readonly loopback?: boolean;
}

export async function openHosts(o: HostsOptions): Promise<Hosts> {
  if (o.loopback || !canBuildRig()) {
    if (!o.loopback) requireRoot("this command's network namespaces (pass --loopback to run on 127.0.0.1 instead)");
    const server = await startNatsServer();
    return {
      kind: "loopback", natsUrl: server.url, dataInterface: "lo", rate: null,
      address: () => "127.0.0.1",
      spawn: (_i, cmd, args, env = {}) => spawn(cmd, [...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } }),
      shape: () => undefined,
      close: () => server.stop(),
    };
  }
  sweepRigs();
  const rig = createRig({ hosts: o.hosts, rate: o.rate });
  let server;
  try {
    server = await startNatsServer({ host: rig.natsAddress });
  } catch (err) {
    rig.destroy();
    throw err;
  }
  return {
    kind: "namespaces", natsUrl: server.url, dataInterface: rig.hosts[0]!.dataInterface,
    get rate() {
      return rig.rate;
    },
    address: (i) => rig.hosts[i]!.dataAddress,
    spawn: (i, cmd, args, env = {}) => rig.spawn(i, cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } }),
    shape: (rate) => rig.shape(rate),
    close: async () => {
      await server.stop();
      rig.destroy();
    },
  };
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** the last JSON line on stdout, parsed */
  readonly json: Record<string, unknown> | null;
}

/** Collects a child's output; resolves when it exits. */
export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      let json: Record<string, unknown> | null = null;
      try {
        json = line ? (JSON.parse(line) as Record<string, unknown>) : null;
      } catch {
        json = null;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** Throws with the tail of stderr unless the process exited 0 with a JSON result. */
export function expectOk(what: string, r: Finished): Record<string, unknown> {
  if (r.code === 0 && r.json) return r.json;
  throw new Error(`${what} exited with ${r.signal ?? r.code}:\n${r.stderr.split("\n").slice(-20).join("\n")}\n${r.stdout.slice(-1000)}`);
}
