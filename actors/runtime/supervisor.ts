// A per-host supervisor (one_for_one, OTP style). Each child actor runs in its own Node
// process, so a native crash or kill -9 of one takes down nothing else. A child that exits
// is restarted according to its policy after an exponential backoff; more than
// `intensity.maxRestarts` restarts within `intensity.withinMs` (default 5 in 30 s) means
// something is wrong beyond this host's reach: the supervisor stops every child and
// escalates to its owner (onEscalate, and `done` resolves to a SupervisorEscalation).
// Every transition is published on NATS (troupe.<run>._sup.<host>) as sys.supervision.
// A host agent's supervisors are `persistent`: children come and go (add, remove) as the
// director places actors, and the supervisor lives on with none until it is stopped.
import { type ChildProcess, fork } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Logger, componentLogger } from "../../hosts/mod.js";
import { type SupervisionEventBody, SupervisionEvent, checkToken, createCodec, createStamper, supervisionSubject } from "../../protocol/mod.js";
import { SupervisorEscalation } from "../errors.js";
import { type ChildMessage, type ChildSpecWire, EXIT_CONFIG, type ParentMessage } from "./ipc.js";
import { resolveRole } from "./roles.js";
import { type BackoffPolicy, type IntensityPolicy, RestartIntensity, backoffDelay } from "./backoff.js";

/** permanent: always restarted; transient: restarted unless it exits 0; temporary: never. */
export type RestartPolicy = "permanent" | "transient" | "temporary";

export interface ChildSpec {
  role: string;
  id: string;
  /** module that default-exports the actor; default: the role's registered module */
  module?: string | URL;
  /** passed to the actor (validated by its config schema); must survive JSON */
  config?: unknown;
  restart?: RestartPolicy;
  /**
   * This child's watchdog, overriding the supervisor's `watchdogMs`: for a role whose handlers
   * run long synchronous computations (the evaluator's head-stage gates) and would otherwise be
   * taken for hung while it computes.
   */
  watchdogMs?: number;
}

export interface SupervisorOptions {
  run: string;
  natsUrl: string;
  children: readonly ChildSpec[];
  /** host token (default: this machine's hostname, sanitized) */
  host?: string;
  /** where supervision events are published; without it they are only passed to onEvent */
  nc?: NatsConnection;
  intensity?: Partial<IntensityPolicy>;
  backoff?: Partial<BackoffPolicy>;
  /** a child not ready this long after spawning is killed and counts as a failure (30 s) */
  startTimeoutMs?: number;
  /** grace period of a graceful stop before SIGKILL (5 s) */
  shutdownMs?: number;
  /** heartbeat period of the children (5 s) */
  heartbeatMs?: number;
  /** kill a child whose heartbeats stop for this long (default 60 s; 0 disables) */
  watchdogMs?: number;
  onEvent?(event: SupervisionEventBody): void;
  onEscalate?(err: SupervisorEscalation): void;
  log?: Logger;
  /** keep running with no children (children are added and removed later); default false */
  persistent?: boolean;
  /** extra environment of every child (e.g. TROUPE_LINK_ADDRESS from its host agent) */
  env?: Readonly<Record<string, string>>;
}

export type ChildState = "starting" | "running" | "backoff" | "stopping" | "stopped";

export interface ChildStatus {
  readonly role: string;
  readonly id: string;
  readonly state: ChildState;
  readonly pid: number | undefined;
  readonly restarts: number;
}

export interface Supervisor {
  readonly host: string;
  /** resolves once every child has been ready once; rejects if the supervisor escalated first */
  ready(): Promise<void>;
  children(): ChildStatus[];
  pidOf(role: string, id: string): number | undefined;
  /** starts another child (not after stop() or an escalation; role/id must be new) */
  add(spec: ChildSpec): void;
  /** stops one child gracefully and forgets it; resolves when it has exited */
  remove(role: string, id: string): Promise<void>;
  /** stops every child gracefully; resolves when all have exited */
  stop(): Promise<void>;
  /** resolves when nothing is left to run: undefined after stop() or normal ends, the error after an escalation */
  readonly done: Promise<Error | undefined>;
}

const CHILD_ENTRY = fileURLToPath(new URL("./child.js", import.meta.url));

interface Child {
  spec: ChildSpec;
  module: string;
  proc: ChildProcess | null;
  state: ChildState;
  restarts: number;
  consecutive: number;
  spawnedAt: number;
  readyAt: number;
  exitAt: number;
  lastBeat: number;
  everReady: boolean;
  timer: NodeJS.Timeout | null;
  exited: Promise<void>;
}

export function defaultHost(): string {
  const h = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64) || "host";
  return h.startsWith("_") ? `h${h.slice(1)}` : h;
}

export function startSupervisor(o: SupervisorOptions): Supervisor {
  const host = checkToken("host", o.host ?? defaultHost());
  const log = o.log ?? componentLogger("supervisor", { run: o.run, host });
  const intensity = new RestartIntensity({ maxRestarts: 5, withinMs: 30_000, ...o.intensity });
  const backoff: BackoffPolicy = { initialMs: 100, maxMs: 5000, factor: 2, resetAfterMs: 10_000, ...o.backoff };
  const startTimeoutMs = o.startTimeoutMs ?? 30_000;
  const shutdownMs = o.shutdownMs ?? 5000;
  const heartbeatMs = o.heartbeatMs ?? 5000;
  const watchdogMs = o.watchdogMs ?? 60_000;
  const codec = createCodec();
  const stamper = createStamper(o.run, `troupe.${o.run}._sup.${host}`);
  const subject = supervisionSubject(o.run, host);
  const newChild = (spec: ChildSpec): Child => ({
    spec,
    module: spec.module ? String(spec.module) : resolveRole(spec.role),
    proc: null,
    state: "stopped",
    restarts: 0,
    consecutive: 0,
    spawnedAt: 0,
    readyAt: 0,
    exitAt: 0,
    lastBeat: 0,
    everReady: false,
    timer: null,
    exited: Promise.resolve(),
  });
  const children: Child[] = o.children.map(newChild);
  let stopping = false;
  let resolveDone!: (v: Error | undefined) => void;
  const done = new Promise<Error | undefined>((r) => (resolveDone = r));
  let escalation: SupervisorEscalation | undefined;
  const readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  function emit(c: Child, event: SupervisionEventBody["event"], extra: Partial<SupervisionEventBody> = {}): void {
    const body: SupervisionEventBody = { event, host, role: c.spec.role, id: c.spec.id, restarts: c.restarts, ...extra };
    try {
      o.onEvent?.(body);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "onEvent threw");
    }
    if (o.nc && !o.nc.isClosed()) {
      try {
        o.nc.publish(subject, codec.encode(stamper.stamp(SupervisionEvent.kind, body)));
      } catch {
        // reconnecting: events are best effort, the supervisor's decisions are not
      }
    }
  }

  function checkReady(): void {
    if (children.every((c) => c.everReady || c.state === "stopped")) for (const w of readyWaiters.splice(0)) w.resolve();
  }

  function checkDone(): void {
    if (o.persistent && !stopping && !escalation) return;
    if (children.every((c) => c.state === "stopped")) resolveDone(escalation);
  }

  function spawnChild(c: Child): void {
    const wire: ChildSpecWire = {
      run: o.run,
      role: c.spec.role,
      id: c.spec.id,
      host,
      module: c.module,
      natsUrl: o.natsUrl,
      config: c.spec.config ?? null,
      heartbeatMs,
      shutdownMs,
    };
    const proc = fork(CHILD_ENTRY, [], {
      env: { ...process.env, ...o.env, TROUPE_ACTOR_SPEC: JSON.stringify(wire) },
      stdio: ["ignore", 2, 2, "ipc"], // an actor's stdout goes to stderr: stdout is the CLI's result
      execArgv: ["--enable-source-maps"],
    });
    c.proc = proc;
    c.state = "starting";
    c.spawnedAt = Date.now();
    c.lastBeat = c.spawnedAt;
    c.exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    const startTimer = setTimeout(() => {
      log.warn({ role: c.spec.role, id: c.spec.id }, `not ready after ${startTimeoutMs} ms; killing it`);
      proc.kill("SIGKILL");
    }, startTimeoutMs);
    proc.on("message", (m: ChildMessage) => {
      if (m.type === "heartbeat") c.lastBeat = Date.now();
      else if (m.type === "ready" && c.proc === proc) {
        clearTimeout(startTimer);
        c.state = stopping ? "stopping" : "running";
        c.readyAt = c.lastBeat = Date.now();
        c.everReady = true;
        emit(c, "started", { pid: proc.pid, ...(c.exitAt ? { downMs: c.readyAt - c.exitAt } : {}) });
        checkReady();
      }
    });
    proc.once("exit", (code, signal) => {
      clearTimeout(startTimer);
      onExit(c, proc, code, signal);
    });
  }

  function onExit(c: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (c.proc !== proc) return;
    c.proc = null;
    c.exitAt = Date.now();
    const wasStopping = stopping || c.state === "stopping";
    emit(c, "exited", { pid: proc.pid, ...(code !== null ? { code } : {}), ...(signal ? { signal } : {}) });
    const abnormal = code !== 0;
    const policy = c.spec.restart ?? "permanent";
    if (wasStopping || policy === "temporary" || (policy === "transient" && !abnormal)) {
      c.state = "stopped";
      if (wasStopping) emit(c, "stopped", { pid: proc.pid });
      checkReady();
      checkDone();
      return;
    }
    if (code === EXIT_CONFIG) return escalate(c, "the actor cannot start (bad definition or config); restarting cannot help");
    if (!intensity.allow(c.exitAt)) return escalate(c, `restart intensity exceeded`);
    const upMs = c.readyAt >= c.spawnedAt ? c.exitAt - c.readyAt : 0;
    if (upMs >= backoff.resetAfterMs) c.consecutive = 0;
    c.consecutive++;
    const delayMs = backoffDelay(backoff, c.consecutive);
    c.restarts++;
    c.state = "backoff";
    emit(c, "restarting", { delayMs, reason: signal ? `killed by ${signal}` : `exited with code ${code}` });
    c.timer = setTimeout(() => {
      c.timer = null;
      if (!stopping) spawnChild(c);
    }, delayMs);
  }

  function escalate(c: Child, reason: string): void {
    escalation = new SupervisorEscalation(c.spec.role, c.spec.id, intensity.count(), intensity.policy.withinMs);
    log.error({ role: c.spec.role, id: c.spec.id, reason }, "escalating");
    c.state = "stopped";
    emit(c, "escalated", { reason });
    for (const w of readyWaiters.splice(0)) w.reject(escalation);
    try {
      o.onEscalate?.(escalation);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "onEscalate threw");
    }
    void stopAll();
  }

  async function stopChild(c: Child): Promise<void> {
    if (c.timer) {
      clearTimeout(c.timer);
      c.timer = null;
    }
    const proc = c.proc;
    if (!proc) {
      c.state = "stopped";
      return;
    }
    c.state = "stopping";
    // "stop" over IPC: a stop by its supervisor (exit 0); a SIGTERM from elsewhere means the
    // actor was stopped before its work was done (child.ts)
    if (proc.connected) proc.send({ type: "stop" } satisfies ParentMessage, (err) => void (err && proc.kill("SIGTERM")));
    else proc.kill("SIGTERM");
    const kill = setTimeout(() => proc.kill("SIGKILL"), shutdownMs + 2000);
    await c.exited;
    clearTimeout(kill);
  }

  async function stopAll(): Promise<void> {
    stopping = true;
    clearInterval(watchdog);
    await Promise.all(children.map(stopChild));
    process.removeListener("exit", killAllSync);
    resolveDone(escalation);
  }

  function killAllSync(): void {
    for (const c of children) c.proc?.kill("SIGKILL");
  }
  process.on("exit", killAllSync);

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const c of children) {
      const limit = c.spec.watchdogMs ?? watchdogMs;
      if (limit > 0 && c.state === "running" && c.proc && now - c.lastBeat > limit) {
        log.warn({ role: c.spec.role, id: c.spec.id }, `no heartbeat for ${now - c.lastBeat} ms; killing it`);
        c.proc.kill("SIGKILL");
      }
    }
  }, Math.max(1000, Math.min(heartbeatMs, 5000)));
  watchdog.unref();

  for (const c of children) spawnChild(c);
  if (children.length === 0 && !o.persistent) resolveDone(undefined);

  return {
    host,
    ready() {
      if (escalation) return Promise.reject(escalation);
      return new Promise<void>((resolve, reject) => {
        readyWaiters.push({ resolve, reject });
        checkReady();
      });
    },
    children: () =>
      children.map((c) => ({ role: c.spec.role, id: c.spec.id, state: c.state, pid: c.proc?.pid, restarts: c.restarts })),
    pidOf: (role, id) => children.find((c) => c.spec.role === role && c.spec.id === id)?.proc?.pid,
    add(spec) {
      if (stopping || escalation) throw new Error(`supervisor of run ${o.run} on ${host} is ${escalation ? "escalated" : "stopping"}; cannot add ${spec.role}/${spec.id}`);
      if (children.some((c) => c.spec.role === spec.role && c.spec.id === spec.id)) throw new Error(`${spec.role}/${spec.id} is already supervised`);
      checkToken("role", spec.role);
      checkToken("id", spec.id);
      const c = newChild(spec);
      children.push(c);
      spawnChild(c);
    },
    async remove(role, id) {
      const c = children.find((x) => x.spec.role === role && x.spec.id === id);
      if (!c) return;
      await stopChild(c);
      c.state = "stopped";
      const i = children.indexOf(c);
      if (i >= 0) children.splice(i, 1);
      checkReady();
    },
    stop: stopAll,
    done,
  };
}
