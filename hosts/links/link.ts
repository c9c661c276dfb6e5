// A link: one TCP connection between two named endpoints that carries frames (frame.ts) both
// ways, for bulk tensors that must not go through nats-server.
//
// - send(kind, body, attachment?) writes the frame at once, in call order; the promise
//   resolves when the bytes queued in this process are below `maxQueuedBytes` again
//   (backpressure), and rejects with the link's error once it is closed. An attachment is
//   written from the caller's memory (no copy): do not change it until the promise resolves.
// - Heartbeats: a `link.heartbeat` frame whenever nothing was sent for `heartbeatMs`; the peer
//   is declared dead (LinkPeerDeadError) when nothing at all arrived for `deadAfterMs`. Time
//   this process's event loop was blocked is not held against the peer.
// - A peer that exits closes the socket: LinkClosedError at once. Bad frames: a bad header
//   breaks the stream (LinkProtocolError, closed); an envelope that does not decode is counted
//   in stats.rejected and skipped, and the owner hears about it through onReject.
// - closed resolves (never rejects) with the reason, undefined after close().
// - Handshake: the dialer's first frame is `link.hello` {from, to, meta}; the acceptor answers
//   `link.welcome` or `link.refuse` {reason}. `ready` settles when it is done; no other frame
//   is accepted before.
import type { Socket } from "node:net";
import { type Codec, type Envelope, createStamper } from "../../protocol/mod.js";
import { LinkClosedError, LinkConnectError, LinkPeerDeadError, LinkProtocolError, isHostsError } from "../errors.js";
import { FRAME_HEADER_BYTES, writeFrameHeader } from "./frame.js";
import { FrameReader } from "./reader.js";

export const HEARTBEAT_KIND = "link.heartbeat";
export const CLOSE_KIND = "link.close";
export const HELLO_KIND = "link.hello";
export const WELCOME_KIND = "link.welcome";
export const REFUSE_KIND = "link.refuse";

/** What a dialer says about itself; `meta` is for the owner (group, rank, generation). */
export interface LinkHello {
  readonly from: string;
  readonly to: string;
  readonly meta: Record<string, unknown>;
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  heartbeatsIn: number;
  heartbeatsOut: number;
  /** frames whose envelope did not decode (skipped) */
  rejected: number;
}

export interface LinkHandlers {
  /** every frame except heartbeats, in order */
  frame(env: Envelope, attachment: Uint8Array | null): void;
  /** where an attachment goes (exactly `bytes` long); undefined: a fresh buffer */
  sink?(env: Envelope, bytes: number): Uint8Array | undefined;
  /** a frame that was counted and skipped */
  reject?(err: Error): void;
}

export interface LinkTiming {
  /** send a heartbeat after this long without sending anything (default 500 ms) */
  readonly heartbeatMs?: number;
  /** declare the peer dead after this long without receiving anything (default 3000 ms) */
  readonly deadAfterMs?: number;
  /** unsent bytes above which send() waits for the socket to drain (default 16 MiB) */
  readonly maxQueuedBytes?: number;
}

export interface Link {
  /** this endpoint's name */
  readonly local: string;
  /** the peer endpoint's name (for an accepted link: known once ready) */
  readonly peer: string;
  /** the peer's hello (the dialer's own for a dialed link) once ready */
  readonly hello: LinkHello | null;
  /** settles when the handshake is done (rejects with LinkConnectError / LinkProtocolError) */
  readonly ready: Promise<void>;
  readonly stats: Readonly<LinkStats>;
  /** the error that ended the link, or null while it is open */
  readonly error: Error | null;
  send(kind: string, body: unknown, attachment?: Uint8Array): Promise<void>;
  /** resolves once everything sent so far was handed to the kernel (attachments may be reused) */
  flushed(): Promise<void>;
  /** resolves once closed: with the reason, or undefined after close() */
  readonly closed: Promise<Error | undefined>;
  /** resolves once the connection itself is gone (after close(): when the peer closed its end too) */
  ended(): Promise<void>;
  /** sets who hears the frames (frames arriving before this are held) */
  handle(h: LinkHandlers): void;
  /** closes the connection (politely: the peer sees a clean close, not a failure) */
  close(reason?: string): void;
}

export interface LinkInit extends LinkTiming {
  readonly socket: Socket;
  readonly local: string;
  readonly run: string;
  readonly codec: Codec;
  /** dial: say hello to `peer`; accept: wait for a hello and ask `admit` */
  readonly role: { readonly dial: { readonly peer: string; readonly meta: Record<string, unknown> } } | { readonly accept: (hello: LinkHello) => string | null };
  /** the handshake must finish within this (default 10 s) */
  readonly handshakeMs?: number;
  /** the socket's onread feeds this slot (dialed sockets); else 'data' events are used */
  readonly slot?: LinkReadSlot;
}

/** The onread hook of a dialed socket: buffer() and callback() are routed to the link. */
export interface LinkReadSlot {
  target: { region(): Uint8Array; advance(n: number): void; feed(chunk: Uint8Array): void } | null;
}

class TcpLink implements Link {
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, heartbeatsIn: 0, heartbeatsOut: 0, rejected: 0 };
  error: Error | null = null;
  readonly closed: Promise<Error | undefined>;
  private resolveClosed!: (e: Error | undefined) => void;
  private readonly socketGone: Promise<void>;
  private handlers: LinkHandlers | null = null;
  private held: ([Envelope, Uint8Array | null] | Error)[] = [];
  private readonly stamper;
  private lastSent = performance.now();
  private lastRecv = performance.now();
  private lastTick = performance.now();
  private readonly timer: NodeJS.Timeout;
  private drainWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private unwritten = 0;
  private flushWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private readonly maxQueued: number;
  readonly local: string;
  peer: string;
  hello: LinkHello | null = null;
  readonly ready: Promise<void>;
  private established = false;
  private settleReady!: (err?: Error) => void;
  private readonly role: LinkInit["role"];
  private readonly socket: Socket;
  private readonly codec: Codec;

  constructor(init: LinkInit) {
    this.local = init.local;
    this.role = init.role;
    this.peer = "dial" in init.role ? init.role.dial.peer : "(accepting)";
    this.socket = init.socket;
    this.codec = init.codec;
    this.heartbeatMs = init.heartbeatMs ?? 500;
    this.deadAfterMs = init.deadAfterMs ?? 3000;
    this.maxQueued = init.maxQueuedBytes ?? 16 << 20;
    this.stamper = createStamper(init.run, `troupe.${init.run}._link.${init.local}`);
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.socketGone = new Promise((r) => init.socket.once("close", () => r()));
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => undefined);
    const reader = new FrameReader(this.codec, {
      sink: (env, bytes) => this.handlers?.sink?.(env, bytes),
      frame: (env, att) => this.onFrame(env, att),
      reject: (err) => {
        this.stats.rejected++;
        if (this.handlers) this.handlers.reject?.(err);
        else this.held.push(err);
      },
    });
    const s = this.socket;
    s.setNoDelay(true);
    if (init.slot) {
      init.slot.target = {
        region: () => reader.region(),
        advance: (n) => {
          this.received(n);
          try {
            reader.advance(n);
          } catch (err) {
            this.fail(asLinkError(err));
          }
        },
        feed: (chunk) => {
          this.received(chunk.byteLength);
          try {
            reader.feed(chunk);
          } catch (err) {
            this.fail(asLinkError(err));
          }
        },
      };
    } else {
      s.on("data", (chunk: Buffer) => {
        this.received(chunk.byteLength);
        try {
          reader.feed(chunk);
        } catch (err) {
          this.fail(asLinkError(err));
        }
      });
    }
    s.on("drain", () => this.wakeDrain());
    s.on("error", (err) => this.fail(new LinkClosedError(this.peer, err.message, { cause: err })));
    s.on("close", () => this.fail(new LinkClosedError(this.peer, "the connection ended (the peer's process exited or closed it)")));
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(this.heartbeatMs, this.deadAfterMs / 4)));
    this.timer.unref();
    const handshakeMs = init.handshakeMs ?? 10_000;
    const giveUp = setTimeout(() => this.fail(new LinkConnectError(`link ${this.local} ↔ ${this.peer}: no handshake within ${handshakeMs} ms`)), handshakeMs);
    giveUp.unref();
    this.ready.then(() => clearTimeout(giveUp), () => clearTimeout(giveUp));
    if ("dial" in init.role) {
      this.hello = { from: this.local, to: init.role.dial.peer, meta: init.role.dial.meta };
      this.write(HELLO_KIND, this.hello);
    }
  }

  private handshake(env: Envelope): void {
    const body = env.body as Record<string, unknown>;
    if ("accept" in this.role && env.kind === HELLO_KIND) {
      const ok = typeof body?.from === "string" && typeof body?.to === "string" && typeof body?.meta === "object" && body.meta !== null;
      if (!ok) return this.fail(new LinkProtocolError(`a link hello must carry from, to and meta, got ${JSON.stringify(body)?.slice(0, 200)}`));
      const hello: LinkHello = { from: body.from as string, to: body.to as string, meta: body.meta as Record<string, unknown> };
      this.peer = hello.from;
      const refusal = hello.to !== this.local ? `this endpoint is ${this.local}, not ${hello.to}` : this.role.accept(hello);
      if (refusal !== null) {
        this.write(REFUSE_KIND, { reason: refusal });
        return this.fail(new LinkConnectError(`refused a link from ${hello.from}: ${refusal}`));
      }
      this.hello = hello;
      this.write(WELCOME_KIND, { from: this.local });
      this.established = true;
      this.settleReady();
      return;
    }
    if ("dial" in this.role && env.kind === WELCOME_KIND) {
      if (body?.from !== this.peer) return this.fail(new LinkConnectError(`dialled ${this.peer} but ${JSON.stringify(body?.from)} answered`));
      this.established = true;
      this.settleReady();
      return;
    }
    if ("dial" in this.role && env.kind === REFUSE_KIND) {
      return this.fail(new LinkConnectError(`${this.peer} refused the link: ${String(body?.reason ?? "no reason given")}`));
    }
    this.fail(new LinkProtocolError(`expected a link handshake, got a ${JSON.stringify(env.kind)} frame first`));
  }

  /** bytes arrived (called by the onread hook too) */
  received(n: number): void {
    this.stats.bytesIn += n;
    this.lastRecv = performance.now();
  }

  handle(h: LinkHandlers): void {
    this.handlers = h;
    const held = this.held;
    this.held = [];
    for (const x of held) {
      if (x instanceof Error) h.reject?.(x);
      else h.frame(x[0], x[1]);
    }
  }

  private onFrame(env: Envelope, att: Uint8Array | null): void {
    if (!this.established && env.kind !== HEARTBEAT_KIND) return this.handshake(env);
    if (env.kind === HEARTBEAT_KIND) {
      this.stats.heartbeatsIn++;
      return;
    }
    if (env.kind === CLOSE_KIND) {
      const why = typeof (env.body as { reason?: unknown })?.reason === "string" ? (env.body as { reason: string }).reason : "closed";
      this.fail(new LinkClosedError(this.peer, `the peer closed the link (${why})`));
      return;
    }
    this.stats.framesIn++;
    if (this.handlers) this.handlers.frame(env, att);
    else this.held.push([env, att]);
  }

  send(kind: string, body: unknown, attachment?: Uint8Array): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (!this.established) return Promise.reject(new LinkProtocolError(`link ${this.local} ↔ ${this.peer}: send before the handshake finished (await link.ready)`));
    this.write(kind, body, attachment);
    this.stats.framesOut++;
    if (this.socket.writableLength <= this.maxQueued) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  private write(kind: string, body: unknown, attachment?: Uint8Array): void {
    const env = this.codec.encodeTransient(this.stamper.stamp(kind, body));
    const attBytes = attachment?.byteLength ?? 0;
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + env.byteLength);
    writeFrameHeader(head, env.byteLength, attBytes);
    head.set(env, FRAME_HEADER_BYTES);
    const s = this.socket;
    this.unwritten++;
    const written = () => {
      if (--this.unwritten === 0) this.wakeFlush();
    };
    if (attBytes > 0) {
      s.cork();
      s.write(head);
      s.write(attachment!, written);
      s.uncork();
    } else {
      s.write(head, written);
    }
    this.stats.bytesOut += head.byteLength + attBytes;
    this.lastSent = performance.now();
  }

  ended(): Promise<void> {
    return this.socket.destroyed && this.socket.closed ? Promise.resolve() : this.socketGone;
  }

  flushed(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.unwritten === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.flushWaiters.push({ resolve, reject }));
  }

  private wakeFlush(): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const x of w) x.resolve();
  }

  private wakeDrain(): void {
    if (this.socket.writableLength > this.maxQueued) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const x of w) x.resolve();
  }

  private tick(): void {
    if (this.error) return;
    const now = performance.now();
    // time this event loop was blocked is not the peer's silence
    const lag = now - this.lastTick - Math.min(this.heartbeatMs, this.deadAfterMs / 4);
    if (lag > 50) this.lastRecv += lag;
    this.lastTick = now;
    const silent = now - this.lastRecv;
    if (silent > this.deadAfterMs) {
      this.fail(new LinkPeerDeadError(this.peer, silent));
      return;
    }
    if (now - this.lastSent >= this.heartbeatMs && this.socket.writableLength === 0) {
      this.write(HEARTBEAT_KIND, { at: Date.now() });
      this.stats.heartbeatsOut++;
    }
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    clearInterval(this.timer);
    this.settleReady(err);
    this.socket.destroy();
    const w = [...this.drainWaiters, ...this.flushWaiters];
    this.drainWaiters = [];
    this.flushWaiters = [];
    for (const x of w) x.reject(err);
    this.resolveClosed(err);
  }

  close(reason = "closed by its owner"): void {
    if (this.error) return;
    try {
      this.write(CLOSE_KIND, { reason });
    } catch {
      // closing anyway
    }
    this.error = new LinkClosedError(this.peer, `closed here (${reason})`);
    clearInterval(this.timer);
    this.settleReady(this.error);
    const w = [...this.drainWaiters, ...this.flushWaiters];
    this.drainWaiters = [];
    this.flushWaiters = [];
    for (const x of w) x.reject(this.error);
    this.socket.end();
    this.resolveClosed(undefined);
  }
}

function asLinkError(err: unknown): Error {
  if (isHostsError(err)) return err;
  return new LinkProtocolError(`link stream failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Wraps a connected socket as a link; await `ready` for the handshake. */
export function createLink(init: LinkInit): Link {
  return new TcpLink(init);
}
