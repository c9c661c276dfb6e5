// An actor's mailbox: its subscriptions, the decode-validate-dispatch loop and its counters.
// Every inbound message is counted as received, then either handled, rejected (a DecodeError,
// counted by code, answered with a typed error when it has a reply subject) or a handler
// error (answered likewise). Nothing a sender does can throw out of here.
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  type BlobStore,
  type Codec,
  type Envelope,
  type MailboxStats,
  type MessageRegistry,
  type RemoteErrorInfo,
  type Stamper,
  Reply,
  StreamEnd,
  StreamError,
  StreamItem,
  countRejection,
  createReceiveCounters,
  hasTensorRefs,
  isDecodeError,
  parseBody,
  resolveTensorRefs,
} from "../../protocol/mod.js";
import type { Logger } from "../../hosts/mod.js";
import type { Handler } from "./define.js";

export interface MailboxOptions {
  nc: NatsConnection;
  codec: Codec;
  stamper: Stamper;
  registry: MessageRegistry;
  handlers: ReadonlyMap<string, Handler<never>>;
  blobs: BlobStore | undefined;
  concurrency: number;
  log: Logger;
  /** encodes an outgoing body (offloading large tensors) */
  encode(kind: string, body: unknown, trace?: string): Promise<Uint8Array>;
  /** the synchronous fast path of encode(): undefined when a tensor must be offloaded first */
  encodeNow(kind: string, body: unknown, trace?: string): Uint8Array | undefined;
  /** builds the context a handler receives for one message */
  contextFor(env: Envelope): unknown;
}

export interface Mailbox {
  subscribe(subject: string, queue?: string): void;
  /** start dispatching (messages that arrived before wait in order) */
  open(): void;
  /** stop receiving, finish what is queued and in flight (up to timeoutMs) */
  close(timeoutMs: number): Promise<void>;
  /** stop receiving at once, handling nothing more (the actor failed to start) */
  abort(): void;
  stats(): MailboxStats;
}

interface Item {
  env: Envelope;
  msg: Msg;
}

function errorInfo(err: unknown): RemoteErrorInfo {
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof e?.name === "string" ? e.name : "Error",
    code: typeof e?.code === "string" ? e.code : "HANDLER",
    message: String(e?.message ?? err).slice(0, 8000),
  };
}

export function createMailbox(o: MailboxOptions): Mailbox {
  const counters = createReceiveCounters();
  const subs: Subscription[] = [];
  const queue: Item[] = [];
  let head = 0;
  let inflight = 0;
  let open = false;
  let closing = false;
  let idle: (() => void) | null = null;

  function reply(msg: Msg, body: unknown, kind: string = Reply.kind, trace?: string): void {
    if (!msg.reply) return;
    try {
      msg.respond(o.codec.encode(o.stamper.stamp(kind, body, trace)));
    } catch (err) {
      o.log.warn({ err: (err as Error).message, kind }, "could not send a reply");
    }
  }

  function reject(msg: Msg, err: unknown, trace?: string): void {
    const code = countRejection(counters, err);
    if (!isDecodeError(err)) o.log.error({ err }, "unexpected error while decoding; counted as malformed");
    o.log.debug({ code, err: (err as Error)?.message, subject: msg.subject }, "message rejected");
    reply(msg, { ok: false, error: errorInfo(isDecodeError(err) ? err : { name: "DecodeError", code, message: String((err as Error)?.message) }) }, Reply.kind, trace);
  }

  function onMessage(err: Error | null, msg: Msg): void {
    if (err) {
      o.log.warn({ err: err.message }, "subscription error");
      return;
    }
    counters.received++;
    let env: Envelope;
    try {
      env = o.codec.decode(msg.data);
    } catch (e) {
      reject(msg, e);
      return;
    }
    queue.push({ env, msg });
    pump();
  }

  function pump(): void {
    while (open && inflight < o.concurrency && head < queue.length) {
      const item = queue[head]!;
      queue[head++] = undefined as never;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      inflight++;
      const pending = dispatch(item);
      if (pending) void pending.then(finished, finished);
      else finished();
    }
  }

  function finished(): void {
    inflight--;
    if (idle && inflight === 0 && head >= queue.length) idle();
    pump();
  }

  /** Handles one message; returns a promise only if some step is asynchronous. */
  function dispatch({ env, msg }: Item): Promise<void> | undefined {
    if (hasTensorRefs(env.body)) {
      return resolveTensorRefs(env.body, o.blobs).then(
        (body) => {
          (env as { body: unknown }).body = body;
          return dispatchResolved(env, msg);
        },
        (e) => reject(msg, e, env.trace),
      );
    }
    return dispatchResolved(env, msg);
  }

  function dispatchResolved(env: Envelope, msg: Msg): Promise<void> | undefined {
    let handler: Handler<never>;
    try {
      parseBody(env, o.registry);
      handler = o.handlers.get(env.kind)!;
    } catch (e) {
      reject(msg, e, env.trace);
      return undefined;
    }
    const ctx = o.contextFor(env) as never;
    if (handler.type === "stream") return runStream(handler.handle(env.body, ctx), env, msg);
    let result: unknown;
    try {
      result = handler.handle(env.body, ctx);
    } catch (e) {
      return handlerFailed(e, env, msg);
    }
    if (typeof (result as PromiseLike<unknown>)?.then === "function") {
      return (result as Promise<unknown>).then(
        (value) => replyValue(value, env, msg),
        (e) => handlerFailed(e, env, msg),
      );
    }
    return replyValue(result, env, msg);
  }

  function handlerFailed(e: unknown, env: Envelope, msg: Msg): undefined {
    counters.handlerErrors++;
    o.log.warn({ kind: env.kind, err: (e as Error)?.message }, "handler failed");
    reply(msg, { ok: false, error: errorInfo(e) }, Reply.kind, env.trace);
    return undefined;
  }

  function replyValue(value: unknown, env: Envelope, msg: Msg): Promise<void> | undefined {
    counters.handled++;
    if (!msg.reply) return undefined;
    const body = { ok: true, value };
    let now: Uint8Array | undefined;
    try {
      now = o.encodeNow(Reply.kind, body, env.trace);
    } catch (e) {
      reply(msg, { ok: false, error: errorInfo(e) }, Reply.kind, env.trace);
      return undefined;
    }
    if (now) {
      msg.respond(now);
      return undefined;
    }
    return o.encode(Reply.kind, body, env.trace).then(
      (bytes) => void msg.respond(bytes),
      (e) => reply(msg, { ok: false, error: errorInfo(e) }, Reply.kind, env.trace),
    );
  }

  async function runStream(items: AsyncIterable<unknown>, env: Envelope, msg: Msg): Promise<void> {
    let count = 0;
    try {
      for await (const value of items) {
        if (msg.reply) msg.respond(await o.encode(StreamItem.kind, { i: count, value }, env.trace));
        count++;
      }
      counters.handled++;
      reply(msg, { count }, StreamEnd.kind, env.trace);
    } catch (e) {
      counters.handlerErrors++;
      o.log.warn({ kind: env.kind, err: (e as Error)?.message }, "stream handler failed");
      reply(msg, { count, error: errorInfo(e) }, StreamError.kind, env.trace);
    }
  }

  return {
    subscribe(subject, queueGroup) {
      subs.push(o.nc.subscribe(subject, { queue: queueGroup, callback: onMessage }));
    },
    open() {
      open = true;
      pump();
    },
    async close(timeoutMs) {
      if (closing) return;
      closing = true;
      // drain: the server stops sending, and what it already sent is still delivered to us
      await Promise.all(subs.map((s) => s.drain().catch(() => undefined)));
      open = true;
      pump();
      if (inflight === 0 && head >= queue.length) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    },
    abort() {
      closing = true;
      for (const sub of subs) sub.unsubscribe();
    },
    stats() {
      return {
        received: counters.received,
        handled: counters.handled,
        rejected: counters.rejected,
        rejectedByCode: { ...counters.rejectedByCode },
        handlerErrors: counters.handlerErrors,
        inflight,
        queued: queue.length - head,
      };
    },
  };
}
