// Entry point of an actor process (forked by the supervisor). Reads its spec from the
// TROUPE_ACTOR_SPEC environment variable, imports the actor module, connects to NATS, starts
// the actor and tells the supervisor over IPC when it is ready. Every stop is graceful (the
// mailbox drains, onStop runs). The exit code says whether the actor was done:
//   0        it asked to stop itself (ctx.stop: its work is over), its supervisor stopped it
//            (an IPC "stop"), or the supervisor went away
//   128 + n  a signal from anyone else (SIGTERM 143, SIGINT 130) stopped it before it was
//            done: a transient actor (the director) is then restarted, not taken as finished
//            (guards #16 item 5: a SIGTERM to the director used to look like the end of the run)
// An uncaught error exits 1, and the supervisor restarts it.
import { constants } from "node:os";
import { pathToFileURL } from "node:url";
import { actorLogger, connectNats } from "../../hosts/mod.js";
import { ActorDefinitionError, isActorConfigError } from "../errors.js";
import type { NatsConnection } from "../../hosts/mod.js";
import { isActorDefinition } from "./define.js";
import { type RunningActor, startActor } from "./actor.js";
import { type ChildMessage, type ChildSpecWire, EXIT_CONFIG, type ParentMessage } from "./ipc.js";

const spec = JSON.parse(process.env.TROUPE_ACTOR_SPEC ?? "null") as ChildSpecWire | null;
if (!spec) {
  process.stderr.write("actors/runtime/child.js is started by the supervisor (TROUPE_ACTOR_SPEC is not set)\n");
  process.exit(2);
}
const log = actorLogger({ run: spec.run, host: spec.host, actor: `${spec.role}/${spec.id}` });
const send = (m: ChildMessage) => {
  if (process.connected) process.send?.(m);
};

process.on("uncaughtException", (err) => {
  log.fatal({ err }, "uncaught exception; exiting for the supervisor to restart");
  process.exit(1);
});
process.on("unhandledRejection", (err) => {
  log.fatal({ err }, "unhandled rejection; exiting for the supervisor to restart");
  process.exit(1);
});

/** A definition or config error cannot be fixed by restarting: exit with EXIT_CONFIG. */
function fatalConfig(err: Error): never {
  log.fatal({ err: err.message }, "cannot start this actor");
  process.exit(EXIT_CONFIG);
}

// Stop handling is installed first, so a stop request during start-up (a long onStart, a
// NATS server that is gone) is honoured too.
let actor: RunningActor | undefined;
let nc: NatsConnection | undefined;
let shuttingDown = false;
async function shutdown(reason: string, code: number, graceMs = spec!.shutdownMs): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.debug({ reason, code }, "stopping");
  setTimeout(() => process.exit(code), graceMs + 1000).unref();
  try {
    await actor?.stop(graceMs);
    await nc?.drain();
  } catch (err) {
    log.warn({ err: (err as Error).message }, "unclean stop");
  }
  process.exit(code);
}
for (const s of ["SIGTERM", "SIGINT"] as const) {
  process.on(s, () => {
    if (!shuttingDown) log.warn({ signal: s }, "stopped by a signal before its work was done; exiting non-zero");
    void shutdown(s, 128 + (constants.signals[s] ?? 0));
  });
}
process.on("message", (m: ParentMessage) => {
  if (m?.type === "stop") void shutdown("stopped by its supervisor", 0);
});
// an orphan stops quickly: its supervisor (and maybe the NATS server) are gone
process.on("disconnect", () => void shutdown("supervisor went away", 0, 500));

const mod = (await import(spec.module.startsWith("file:") ? spec.module : pathToFileURL(spec.module).href)) as Record<string, unknown>;
const def = mod.default ?? mod.actor;
if (!isActorDefinition(def)) {
  fatalConfig(new ActorDefinitionError(`${spec.module} does not default-export defineActor(...)`));
}
if (def.role !== spec.role) {
  fatalConfig(new ActorDefinitionError(`${spec.module} defines role ${def.role}, but the supervisor asked for ${spec.role}`));
}

nc = await connectNats(spec.natsUrl, { name: `troupe.${spec.run}.${spec.role}.${spec.id}` });
const started = await startActor(def, {
  nc,
  run: spec.run,
  id: spec.id,
  host: spec.host,
  config: spec.config,
  heartbeatMs: spec.heartbeatMs,
  log,
  onHeartbeat: () => send({ type: "heartbeat" }),
  onStopRequest: (reason) => void shutdown(reason, 0),
}).catch((err: unknown) => (isActorConfigError(err) ? fatalConfig(err) : Promise.reject(err)));
actor = started;
if (!shuttingDown) send({ type: "ready", pid: process.pid, address: started.address });
