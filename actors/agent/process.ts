// Host agents as child processes of this one (the chaos drills' hosts): each is `troupe host`
// in its own process, optionally started through a wrapper (`ip netns exec ns0 taskset -c 0` in
// the multi-host rig) so that it and the actors it forks live in a namespace and on a CPU set of
// their own. kill("SIGKILL") is a host that dies; stop() a clean leave (SIGTERM). On Linux they
// are started through `setpriv --pdeathsig KILL`, so they go when this process goes, even after
// kill -9 (their actors follow: an actor stops when its supervisor's channel closes).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LinkAddress } from "../../hosts/mod.js";
import { AgentStartError } from "../errors.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

function deathSignal(): string[] {
  if (process.platform !== "linux") return [];
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin"]) if (existsSync(join(dir, "setpriv"))) return [join(dir, "setpriv"), "--pdeathsig", "KILL", "--"];
  return [];
}

export interface AgentProcessSpec {
  readonly natsUrl: string;
  readonly name: string;
  readonly tags?: readonly string[];
  readonly cores?: number;
  readonly links?: readonly LinkAddress[];
  readonly beatMs?: number;
  readonly orphanMs?: number;
}

export interface SpawnAgentOptions {
  /** argv the node process is started through, e.g. ["ip", "netns", "exec", "ns0"] */
  readonly wrap?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** give up when it has not registered after this long (default 30 s) */
  readonly startTimeoutMs?: number;
}

export interface AgentProcess {
  readonly name: string;
  readonly pid: number;
  /** the agent's instance id (a restarted agent is a new instance) */
  readonly instance: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** leaves cleanly (SIGTERM) and waits for the process to end */
  stop(): Promise<void>;
  /** its last stderr lines */
  log(): string;
}

export function spawnHostAgent(spec: AgentProcessSpec, o: SpawnAgentOptions = {}): Promise<AgentProcess> {
  const argv = [...deathSignal(), ...(o.wrap ?? []), process.execPath, "--enable-source-maps", MAIN, JSON.stringify(spec)];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...o.env } });
  const tail: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    tail.push(...d.split("\n").filter(Boolean));
    if (tail.length > 60) tail.splice(0, tail.length - 60);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return new Promise<AgentProcess>((resolve, reject) => {
    const timeoutMs = o.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new AgentStartError(`host agent ${spec.name} did not register within ${timeoutMs} ms`, tail.join("\n")));
    }, timeoutMs);
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const line = out.split("\n").find((l) => l.includes('"registered":true'));
      if (!line) return;
      out = "";
      clearTimeout(timer);
      const r = JSON.parse(line) as { instance: string; pid: number };
      resolve({
        name: spec.name, pid: r.pid, instance: r.instance, exited,
        kill: (signal = "SIGKILL") => void (child.exitCode === null && child.signalCode === null && process.kill(r.pid, signal)),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) process.kill(r.pid, "SIGTERM");
          await exited;
        },
        log: () => tail.join("\n"),
      });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new AgentStartError(`host agent ${spec.name} exited before it registered (code ${code}, signal ${signal})`, tail.join("\n")));
    });
  });
}
