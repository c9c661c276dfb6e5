// Running one actor on a NATS connection: subscriptions, system handlers (ping, stats),
// heartbeats, the context its handlers see, and a graceful stop. The supervisor runs each
// actor in its own process through child.ts, which calls startActor(); tests may call it
// in-process.
import { pid } from "node:process";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Logger, actorLogger, openObjects, openRunState, openWorkQueue, objectBlobStore, type Objects } from "../../hosts/mod.js";
import {
  type BlobStore,
  type Codec,
  type Envelope,
  type MailboxStats,
  Heartbeat,
  Ping,
  Stats,
  actorAddress,
  createCodec,
  createRegistry,
  groupQueue,
  groupSubject,
  heartbeatSubject,
  roleBroadcastSubject,
  runBroadcastSubject,
} from "../../protocol/mod.js";
import { ActorConfigError } from "../errors.js";
import { type ActorContext, type ActorDefinition, type Handler, type HandlerContext, on } from "./define.js";
import { createMailbox } from "./mailbox.js";
import { createPeer } from "./peer.js";

export interface StartActorOptions {
  nc: NatsConnection;
  run: string;
  id: string;
  /** host name written into logs and heartbeats (default: "local") */
  host?: string;
  config?: unknown;
  codec?: Codec;
  /** heartbeat period on NATS (default 5000 ms; 0 disables) */
  heartbeatMs?: number;
  /** called for every heartbeat (the child process forwards it to its supervisor) */
  onHeartbeat?(): void;
  /** called when the actor asks to stop itself through ctx.stop() */
  onStopRequest?(reason: string): void;
  log?: Logger;
}

export interface RunningActor {
  readonly address: string;
  readonly log: Logger;
  stats(): MailboxStats;
  /** graceful: stop receiving, finish queued messages (up to timeoutMs), then onStop */
  stop(timeoutMs?: number): Promise<void>;
}

/** Opens the run's blob bucket on first use, so actors that never send big tensors pay nothing. */
function lazyBlobs(nc: NatsConnection, run: string): BlobStore {
  let store: Promise<BlobStore> | undefined;
  const get = () => (store ??= openObjects(nc, { run, bucket: "blobs", ttlMs: 60 * 60_000 }).then(objectBlobStore));
  return {
    put: async (data) => (await get()).put(data),
    get: async (blob) => (await get()).get(blob),
  };
}

export async function startActor<Config>(def: ActorDefinition<Config>, o: StartActorOptions): Promise<RunningActor> {
  const { nc, run, id } = o;
  const host = o.host ?? "local";
  const address = actorAddress(run, def.role, id);
  const log = o.log ?? actorLogger({ run, host, actor: `${def.role}/${id}` });
  let config: Config;
  try {
    config = def.config ? def.config.parse(o.config, `${def.role} config`) : (o.config as Config);
  } catch (err) {
    throw new ActorConfigError(`invalid config for ${def.role}/${id}: ${(err as Error).message}`, { cause: err });
  }
  const codec = o.codec ?? createCodec({ maxBytes: def.maxMessageBytes });
  const blobs = lazyBlobs(nc, run);
  const peer = createPeer({ nc, run, from: address, codec, blobs });
  const stopping = new AbortController();
  const started = Date.now();
  const objectsCache = new Map<string, Promise<Objects>>();

  const ctx: ActorContext<Config> = {
    ...peer,
    call: peer.call,
    choose: peer.choose,
    broadcast: peer.broadcast,
    stream: peer.stream,
    role: def.role,
    id,
    host,
    address,
    config,
    log,
    nc,
    codec,
    blobs,
    signal: stopping.signal,
    workQueue: (m, opts) => openWorkQueue(nc, m, { ...opts, run, from: address, codec, log }),
    runState: (bucket, schema) => openRunState(nc, { run, bucket, schema, codec, from: address }),
    objects: (bucket) => {
      let p = objectsCache.get(bucket);
      if (!p) objectsCache.set(bucket, (p = openObjects(nc, { run, bucket })));
      return p;
    },
    stop: (reason = "requested by the actor") => o.onStopRequest?.(reason),
  };

  // a handler's context continues the message's trace in every call it makes; per message it
  // is one object whose prototype holds the trace-aware verbs, which inherit the rest from ctx
  type Mutable = { -readonly [K in keyof HandlerContext<Config>]: HandlerContext<Config>[K] };
  const traced = Object.create(ctx) as Mutable;
  traced.call = function (this: HandlerContext<Config>, to, m, body, opts) {
    return peer.call(to, m, body, { trace: this.envelope.trace, ...opts });
  };
  traced.choose = function (this: HandlerContext<Config>, role, m, body, opts) {
    return peer.choose(role, m, body, { trace: this.envelope.trace, ...opts });
  };
  traced.broadcast = function (this: HandlerContext<Config>, target, m, body, opts) {
    return peer.broadcast(target, m, body, { trace: this.envelope.trace, ...opts });
  };
  traced.stream = function (this: HandlerContext<Config>, to, m, body, opts) {
    return peer.stream(to, m, body, { trace: this.envelope.trace, ...opts });
  };
  const contextFor = (env: Envelope): HandlerContext<Config> => {
    const h = Object.create(traced) as Mutable;
    h.envelope = env;
    return h;
  };

  const system: Handler<never>[] = [
    on(Ping, () => ({ role: def.role, id, host, pid, uptimeMs: Date.now() - started })),
    on(Stats, () => mailbox.stats()),
  ];
  const all = [...system, ...(def.handlers as Handler<never>[])];
  const registry = createRegistry(all.map((h) => h.def));
  const mailbox = createMailbox({
    nc,
    codec,
    stamper: peer.stamper,
    registry,
    handlers: new Map(all.map((h) => [h.def.kind, h])),
    blobs,
    concurrency: def.concurrency ?? 1,
    log,
    encode: peer.encode,
    encodeNow: peer.encodeNow,
    contextFor,
  });
  mailbox.subscribe(address);
  mailbox.subscribe(groupSubject(run, def.role), groupQueue(def.role));
  mailbox.subscribe(roleBroadcastSubject(run, def.role));
  mailbox.subscribe(runBroadcastSubject(run));
  await nc.flush(); // the server has our subscriptions: calls from now on reach us

  try {
    await def.onStart?.(ctx);
  } catch (err) {
    stopping.abort();
    mailbox.abort();
    throw err;
  }
  mailbox.open();

  const beatMs = o.heartbeatMs ?? 5000;
  const hbSubject = heartbeatSubject(run, def.role, id);
  const beat = () => {
    o.onHeartbeat?.();
    const body = { role: def.role, id, host, pid, uptimeMs: Date.now() - started, rssBytes: process.memoryUsage.rss(), stats: mailbox.stats() };
    try {
      nc.publish(hbSubject, codec.encode(peer.stamper.stamp(Heartbeat.kind, body)));
    } catch {
      // closed or reconnecting: heartbeats are best effort by nature
    }
  };
  const timer = beatMs > 0 ? setInterval(beat, beatMs) : undefined;
  timer?.unref();
  if (beatMs > 0) beat();
  log.debug({ address }, "actor started");

  let stopped: Promise<void> | undefined;
  return {
    address,
    log,
    stats: () => mailbox.stats(),
    stop(timeoutMs = 5000) {
      stopped ??= (async () => {
        stopping.abort();
        clearInterval(timer);
        await mailbox.close(timeoutMs);
        try {
          await def.onStop?.(ctx);
        } catch (err) {
          log.warn({ err: (err as Error).message }, "onStop failed");
        }
        log.debug({ stats: mailbox.stats() }, "actor stopped");
      })();
      return stopped;
    },
  };
}
