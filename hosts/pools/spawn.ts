// Pool worker processes on this machine: one at a time (spawnPoolWorker) or a pool of them
// (startLocalPool), each on an ephemeral loopback port it reports itself. A local pool can
// restart a worker that died on the port it had, so the addresses the scheduler was given stay
// valid and the worker comes back into rotation by health checks. On Linux the workers are
// started through `setpriv --pdeathsig KILL`: they go when their owner goes, even after kill -9.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PoolWorkerStartError } from "../errors.js";
import { type Logger, componentLogger } from "../logger.js";
import type { WorkerProcessSpec } from "./worker/process.js";

const MAIN = fileURLToPath(new URL("./worker/main.js", import.meta.url));

function deathSignalWrapper(): string | null {
  if (process.platform !== "linux") return null;
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin"]) if (existsSync(join(dir, "setpriv"))) return join(dir, "setpriv");
  return null;
}

export interface SpawnedWorker {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when it serves its model (its "ready" line); rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** Its last stderr lines. */
  log(): string;
}

export interface SpawnOptions {
  /** Give up if it has not reported its port after this long (default 30 s). */
  readonly startTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export function spawnPoolWorker(spec: WorkerProcessSpec, o: SpawnOptions = {}): Promise<SpawnedWorker> {
  const wrapper = deathSignalWrapper();
  const argv = [process.execPath, "--enable-source-maps", MAIN, JSON.stringify(spec)];
  const [cmd, args] = wrapper ? [wrapper, ["--pdeathsig", "KILL", "--", ...argv]] : [argv[0]!, argv.slice(1)];
  const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...o.env } });
  const tail: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    tail.push(...d.split("\n").filter(Boolean));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  let onReady!: () => void;
  let onNotReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => ((onReady = res), (onNotReady = rej)));
  ready.catch(() => undefined);
  return new Promise<SpawnedWorker>((resolve, reject) => {
    let listening: SpawnedWorker | null = null;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new PoolWorkerStartError(`the pool worker did not report its port within ${o.startTimeoutMs ?? 30_000} ms`, tail.join("\n")));
    }, o.startTimeoutMs ?? 30_000);
    let buf = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let ev: { event?: string; address?: string; port?: number; pid?: number };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          continue;
        }
        if (ev.event === "listening" && !listening) {
          clearTimeout(timer);
          listening = {
            address: ev.address!,
            port: ev.port!,
            pid: child.pid!,
            ready,
            exited,
            kill: (signal = "SIGTERM") => void child.kill(signal),
            log: () => tail.join("\n"),
          };
          resolve(listening);
        } else if (ev.event === "ready") onReady();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const why = `the pool worker exited (${signal ?? `code ${code}`})`;
      onNotReady(new PoolWorkerStartError(`${why} before it was ready`, tail.join("\n")));
      if (!listening) reject(new PoolWorkerStartError(`${why} before it reported its port`, tail.join("\n")));
    });
  });
}

export interface LocalPoolOptions {
  readonly count: number;
  /** The spec of every worker (port and name are set per worker). */
  readonly spec: WorkerProcessSpec;
  /** Restart a worker that exits, on the same port (default false). */
  readonly respawn?: boolean;
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalPool {
  readonly addresses: readonly string[];
  /** The process now serving worker i. */
  worker(i: number): SpawnedWorker;
  /** Waits until every worker reported ready. */
  ready(): Promise<void>;
  /** Starts worker i again on its port (after it exited). */
  restart(i: number): Promise<SpawnedWorker>;
  /** Restarts so far, by worker. */
  restarts(): number[];
  stop(): Promise<void>;
}

export async function startLocalPool(o: LocalPoolOptions): Promise<LocalPool> {
  const log = o.log ?? componentLogger("local-pool");
  let stopping = false;
  const procs: SpawnedWorker[] = [];
  const restarts: number[] = Array.from({ length: o.count }, () => 0);
  const start = (i: number, port: number) => spawnPoolWorker({ ...o.spec, port, name: o.spec.name ? `${o.spec.name}-${i}` : undefined }, { env: o.env });
  const watch = (i: number, p: SpawnedWorker) => {
    void p.exited.then(({ code, signal }) => {
      if (stopping || !o.respawn || procs[i] !== p) return;
      log.warn({ worker: p.address, code, signal }, "pool worker exited; starting it again on its port");
      void restart(i).catch((err: Error) => log.error({ worker: p.address, err: err.message }, "pool worker could not be restarted"));
    });
  };
  const restart = async (i: number): Promise<SpawnedWorker> => {
    const port = procs[i]!.port;
    await procs[i]!.exited;
    const p = await start(i, port);
    procs[i] = p;
    restarts[i]!++;
    watch(i, p);
    return p;
  };
  try {
    for (let i = 0; i < o.count; i++) {
      const p = await start(i, 0);
      procs.push(p);
      watch(i, p);
    }
  } catch (err) {
    for (const p of procs) p.kill("SIGKILL");
    throw err;
  }
  return {
    addresses: procs.map((p) => p.address),
    worker: (i) => procs[i]!,
    ready: async () => {
      await Promise.all(procs.map((p) => p.ready));
    },
    restart,
    restarts: () => [...restarts],
    async stop() {
      stopping = true;
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
    },
  };
}
