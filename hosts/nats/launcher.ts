// The embedded nats-server: a child process with JetStream on an ephemeral loopback port and
// a temporary store. Ready means the ports file exists AND JetStream answers an API request;
// never a sleep. stop() ends it (SIGTERM, then SIGKILL) and removes what it created; restart()
// brings it back on the same port with the same store, so clients reconnect by themselves.
// Servers still running when this process exits or is signalled are killed and cleaned; if
// this process is killed -9, the server stops and its temp dir goes too (reaper.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { HostsErrorCode, NatsServerError } from "../errors.js";
import { componentLogger } from "../logger.js";
import { trackServer, untrackServer } from "./cleanup.js";
import { serverCommand } from "./reaper.js";
import { pause } from "../pause.js";

export interface NatsServerOptions {
  /** enable JetStream (default true) */
  jetstream?: boolean;
  /** JetStream store directory; kept on stop. Default: a temp dir removed on stop. */
  storeDir?: string;
  /** max_payload in bytes (default 8 MiB; nats-server's own default is 1 MiB) */
  maxPayload?: number;
  /** listen port (default -1: the OS picks a free one) */
  port?: number;
  /** listen address (default 127.0.0.1) */
  host?: string;
  /** path of the nats-server binary (default $TROUPE_NATS_SERVER, else nats-server on PATH) */
  bin?: string;
  /** how long to wait for readiness (default 15 s) */
  startTimeoutMs?: number;
  /** log every server line at debug level */
  debug?: boolean;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** the JetStream store directory (undefined without JetStream) */
  readonly storeDir: string | undefined;
  readonly pid: number;
  readonly running: boolean;
  /** graceful stop (SIGTERM, SIGKILL after 5 s); removes the temp dir and a temp store */
  stop(): Promise<void>;
  /** SIGKILL without cleanup, like a crash; restart() afterwards recovers from the store */
  kill(): Promise<void>;
  /** stops (keeping the store) and starts again on the same port with the same store */
  restart(): Promise<void>;
  /** the server's recent log lines */
  log(): string;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024;
const LOG_LINES = 200;

function findBinary(bin: string | undefined): string {
  const want = bin ?? process.env.TROUPE_NATS_SERVER ?? "nats-server";
  if (want.includes("/")) {
    if (existsSync(want)) return want;
  } else {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (dir && existsSync(join(dir, want))) return join(dir, want);
    }
  }
  throw new NatsServerError(
    HostsErrorCode.notOnPath,
    `${want} was not found. Possible fixes: run \`node scripts/setup.mjs\` (installs it on Debian/Ubuntu), ` +
      `\`apt-get install nats-server\`, \`brew install nats-server\`, or set TROUPE_NATS_SERVER to its path; ` +
      `or pass --nats URL to use a server you run yourself.`,
  );
}

function renderConfig(o: { host: string; port: number; maxPayload: number; storeDir: string | undefined; name: string }): string {
  const lines = [
    `server_name: "${o.name}"`,
    `listen: "${o.host}:${o.port}"`,
    `max_payload: ${o.maxPayload}`,
    // a reconnecting client may hold several MiB of pending publishes
    `max_pending: ${Math.max(64 * 1024 * 1024, 8 * o.maxPayload)}`,
  ];
  if (o.storeDir !== undefined) lines.push(`jetstream {`, `  store_dir: ${JSON.stringify(o.storeDir)}`, `}`);
  return lines.join("\n") + "\n";
}

class Server implements NatsServerHandle {
  private child: ChildProcess | null = null;
  /** the child leads its own process group (the Linux wrapper): SIGKILL the group */
  private group = false;
  private lines: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  private readonly log$ = componentLogger("nats-server");
  port: number;
  readonly host: string;

  constructor(
    private readonly bin: string,
    private readonly workDir: string,
    readonly storeDir: string | undefined,
    private readonly ownsStore: boolean,
    private readonly opts: Required<Pick<NatsServerOptions, "maxPayload" | "startTimeoutMs" | "debug">> & { host: string; port: number },
    private readonly name: string,
  ) {
    this.host = opts.host;
    this.port = opts.port;
  }

  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }
  get pid(): number {
    return this.child?.pid ?? -1;
  }
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }
  log(): string {
    return this.lines.join("\n");
  }

  async start(): Promise<void> {
    const conf = join(this.workDir, "nats.conf");
    const portsDir = join(this.workDir, "ports");
    rmSync(portsDir, { recursive: true, force: true });
    mkdirSync(portsDir, { recursive: true });
    const { host, port, maxPayload } = this.opts;
    writeFileSync(conf, renderConfig({ host, port, maxPayload, storeDir: this.storeDir, name: this.name }));
    const args = ["-c", conf, "--ports_file_dir", portsDir];
    // a temp store lives in workDir; a store the caller named is never removed by the wrapper
    const { cmd, argv, group } = serverCommand(this.bin, args, this.workDir);
    this.lines = [];
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], detached: group });
    this.group = group;
    this.child = child;
    let exitInfo: string | null = null;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      child.once("error", (err) => {
        exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });
    const onData = (buf: Buffer) => {
      for (const line of buf.toString("utf8").split("\n")) {
        if (!line) continue;
        this.lines.push(line);
        if (this.lines.length > LOG_LINES) this.lines.shift();
        if (this.opts.debug) this.log$.debug({ pid: child.pid }, line);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    trackServer(this);

    const deadline = Date.now() + this.opts.startTimeoutMs;
    const fail = (code: typeof HostsErrorCode.serverExited | typeof HostsErrorCode.serverTimeout, msg: string): never => {
      throw new NatsServerError(code, msg, this.lines.slice(-20).join("\n"));
    };
    // 1. the ports file appears once the client listener is up
    let url: string | null = null;
    while (url === null) {
      if (exitInfo) fail(HostsErrorCode.serverExited, `nats-server exited during start-up (${exitInfo})`);
      if (Date.now() > deadline) {
        await this.terminate("SIGKILL");
        fail(HostsErrorCode.serverTimeout, `nats-server wrote no ports file within ${this.opts.startTimeoutMs} ms`);
      }
      url = readPortsFile(portsDir);
      if (url === null) await Promise.race([this.exited, pause(10)]);
    }
    this.port = Number(new URL(url.replace(/^nats:/, "http:")).port);
    // 2. JetStream answers its API (a cheap request on a throwaway connection)
    if (this.storeDir !== undefined) await this.waitForJetStream(deadline, () => exitInfo);
  }

  private async waitForJetStream(deadline: number, exitInfo: () => string | null): Promise<void> {
    const nc = await connect({ servers: this.url, name: "troupe-launcher-probe", reconnect: false });
    try {
      for (;;) {
        if (exitInfo()) throw new NatsServerError(HostsErrorCode.serverExited, `nats-server exited (${exitInfo()})`, this.log());
        try {
          const r = await nc.request("$JS.API.INFO", undefined, { timeout: 1000 });
          const info = JSON.parse(new TextDecoder().decode(r.data)) as { error?: { description?: string } };
          if (!info.error) return;
        } catch {
          // not ready yet
        }
        if (Date.now() > deadline) {
          throw new NatsServerError(HostsErrorCode.serverTimeout, "JetStream did not become ready in time", this.log());
        }
        await pause(20);
      }
    } finally {
      await nc.close();
    }
  }

  /** SIGKILL to the server (and its wrapper's whole group). */
  private hardKill(child: ChildProcess): void {
    if (this.group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
        return;
      } catch {
        // the group is gone already
      }
    }
    child.kill("SIGKILL");
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (signal === "SIGKILL") this.hardKill(child);
    else child.kill(signal);
    if (signal !== "SIGKILL") {
      const t = setTimeout(() => this.hardKill(child), 5000);
      await this.exited;
      clearTimeout(t);
    } else {
      await this.exited;
    }
  }

  async stop(): Promise<void> {
    await this.terminate("SIGTERM");
    untrackServer(this);
    this.cleanupSync();
  }

  async kill(): Promise<void> {
    await this.terminate("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.terminate("SIGTERM");
    this.opts.port = this.port; // same port, so clients reconnect to the URL they know
    await this.start();
  }

  /** Synchronous: also used from process 'exit' handlers. */
  killSync(): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) this.hardKill(child);
  }
  cleanupSync(): void {
    rmSync(this.workDir, { recursive: true, force: true });
    if (this.ownsStore && this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

function readPortsFile(dir: string): string | null {
  for (const f of readdirSync(dir)) {
    if (!f.endsWith(".ports")) continue;
    try {
      const ports = JSON.parse(readFileSync(join(dir, f), "utf8")) as { nats?: string[] };
      if (ports.nats?.[0]) return ports.nats[0];
    } catch {
      // partially written; read again on the next poll
    }
  }
  return null;
}


function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Temp dirs of launchers that died by SIGKILL (no chance to clean) are removed later. */
function sweepStaleDirs(): void {
  try {
    for (const name of readdirSync(tmpdir())) {
      const m = /^troupe-nats-(\d+)-/.exec(name);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
      }
    }
  } catch {
    // best effort
  }
}

/** Starts nats-server and resolves once it accepts clients (and JetStream requests). */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = findBinary(opts.bin);
  sweepStaleDirs();
  const workDir = mkdtempSync(join(tmpdir(), `troupe-nats-${process.pid}-`));
  const jetstream = opts.jetstream ?? true;
  const storeDir = jetstream ? (opts.storeDir ?? join(workDir, "store")) : undefined;
  if (storeDir) mkdirSync(storeDir, { recursive: true });
  const server = new Server(
    bin,
    workDir,
    storeDir,
    jetstream && opts.storeDir === undefined,
    {
      maxPayload: opts.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      startTimeoutMs: opts.startTimeoutMs ?? 15_000,
      debug: opts.debug ?? false,
      host: opts.host ?? "127.0.0.1",
      port: opts.port ?? -1,
    },
    `troupe_${workDir.slice(-6).replace(/[^A-Za-z0-9]/g, "x")}`,
  );
  try {
    await server.start();
  } catch (err) {
    server.killSync();
    untrackServer(server);
    server.cleanupSync();
    throw err;
  }
  return server;
}
