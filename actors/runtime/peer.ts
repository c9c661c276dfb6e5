// The sending side of the runtime. Verb names say their delivery:
//   call(address, Msg, body)    one actor, await its reply (or a typed error) within a timeout
//   choose(role, Msg, body)     one actor of the role's queue group, await its reply
//   broadcast(target, Msg, body) every actor of a role (or of the run); fire and forget
//   stream(address, Msg, body)  one actor, an async iterable of its replies
// Actors get these on their context; CLI code and tests use openPeer().
// A call in flight when the connection to NATS drops rejects at once with DisconnectedError
// (hosts/), not at its timeout: its reply would be lost anyway.
import type { NatsConnection } from "@nats-io/transport-node";
import { unlessDisconnected } from "../../hosts/mod.js";
import {
  type BlobStore,
  type BodyOf,
  type Codec,
  type MessageDef,
  type OffloadOptions,
  type ReplyOf,
  type Stamper,
  MalformedMessageError,
  Reply,
  createCodec,
  createStamper,
  groupSubject,
  hasTensorRefs,
  needsOffload,
  offloadTensors,
  resolveTensorRefs,
  roleBroadcastSubject,
  runBroadcastSubject,
} from "../../protocol/mod.js";
import { CallTimeoutError, NoResponderError, RemoteError } from "../errors.js";
import { openReplyStream } from "./streams.js";

export interface CallOptions {
  /** default 5000 ms */
  timeoutMs?: number;
  /** trace id to continue; a handler's context passes its own */
  trace?: string;
}

export interface StreamOptions {
  /** the longest wait for the next item (default 10 000 ms) */
  idleTimeoutMs?: number;
  trace?: string;
}

/** Who a broadcast goes to: every actor of a role, or every actor of the run. */
export type BroadcastTarget = { role: string } | "all";

export interface Peer {
  readonly run: string;
  /** the sender address written into every envelope */
  readonly from: string;
  call<M extends MessageDef>(to: string, def: M, body: BodyOf<M>, opts?: CallOptions): Promise<ReplyOf<M>>;
  choose<M extends MessageDef>(role: string, def: M, body: BodyOf<M>, opts?: CallOptions): Promise<ReplyOf<M>>;
  broadcast<M extends MessageDef>(target: BroadcastTarget, def: M, body: BodyOf<M>, opts?: { trace?: string }): Promise<void>;
  stream<M extends MessageDef>(to: string, def: M, body: BodyOf<M>, opts?: StreamOptions): AsyncIterable<ReplyOf<M>>;
}

export interface PeerOptions {
  nc: NatsConnection;
  run: string;
  from: string;
  codec?: Codec;
  /** where tensors too large for a message go; without one, such sends fail with a BlobError */
  blobs?: BlobStore;
  offload?: OffloadOptions;
}

export interface PeerInternals extends Peer {
  readonly stamper: Stamper;
  readonly codec: Codec;
  /** encodes a body for the wire, offloading large tensors first */
  encode(kind: string, body: unknown, trace?: string): Promise<Uint8Array>;
  /** the synchronous fast path of encode(): undefined when a tensor must be offloaded first */
  encodeNow(kind: string, body: unknown, trace?: string): Uint8Array | undefined;
  /** decodes a sys.reply and returns its value, validated by def.reply (a promise only if it holds refs) */
  decodeReply(data: Uint8Array, to: string, def: MessageDef): unknown;
}

function mapRequestError(err: unknown, to: string, kind: string, timeoutMs: number): unknown {
  const e = err as Error & { isNoResponders?: () => boolean };
  if (e?.name === "TimeoutError") return new CallTimeoutError(to, kind, timeoutMs, { cause: err });
  if (e?.name === "NoRespondersError" || (e?.name === "RequestError" && e.isNoResponders?.())) {
    return new NoResponderError(to, kind, { cause: err });
  }
  return err;
}

export function createPeer(o: PeerOptions): PeerInternals {
  const codec = o.codec ?? createCodec();
  const stamper = createStamper(o.run, o.from);
  const offload = o.offload ?? {
    thresholdBytes: 1024 * 1024,
    budgetBytes: Math.max(64 * 1024, (o.nc.info?.max_payload ?? 1024 * 1024) - 256 * 1024),
  };

  function encodeNow(kind: string, body: unknown, trace?: string): Uint8Array | undefined {
    if (needsOffload(body, offload)) return undefined;
    return codec.encode(stamper.stamp(kind, body, trace));
  }

  async function encode(kind: string, body: unknown, trace?: string): Promise<Uint8Array> {
    const out = await offloadTensors(body, o.blobs, offload);
    return codec.encode(stamper.stamp(kind, out, trace));
  }

  function decodeReply(data: Uint8Array, to: string, def: MessageDef): unknown {
    const env = codec.decode(data);
    if (env.kind !== Reply.kind) throw new MalformedMessageError(`expected ${Reply.kind} from ${to}, got ${env.kind}`);
    const r = Reply.body.parse(env.body, Reply.kind);
    if (!r.ok) throw new RemoteError(to, def.kind, r.error);
    const check = (value: unknown) => (def.reply ? def.reply.parse(value, `${def.kind} reply`) : value);
    return hasTensorRefs(r.value) ? resolveTensorRefs(r.value, o.blobs).then(check) : check(r.value);
  }

  async function request(subject: string, def: MessageDef, body: unknown, opts: CallOptions): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const data = encodeNow(def.kind, body, opts.trace) ?? (await encode(def.kind, body, opts.trace));
    let msg;
    try {
      // a request in flight when the connection drops is answered into the void (nats.js drops
      // the reply's publish, or the server restarted): fail at once, the caller may retry
      msg = await unlessDisconnected(o.nc, o.nc.request(subject, data, { timeout: timeoutMs }), `${def.kind} to ${subject}`);
    } catch (err) {
      throw mapRequestError(err, subject, def.kind, timeoutMs);
    }
    return decodeReply(msg.data, subject, def);
  }

  return {
    run: o.run,
    from: o.from,
    stamper,
    codec,
    encode,
    encodeNow,
    decodeReply,
    call(to, def, body, opts = {}) {
      return request(to, def, body, opts) as Promise<never>;
    },
    choose(role, def, body, opts = {}) {
      return request(groupSubject(o.run, role), def, body, opts) as Promise<never>;
    },
    async broadcast(target, def, body, opts = {}) {
      const subject = target === "all" ? runBroadcastSubject(o.run) : roleBroadcastSubject(o.run, target.role);
      o.nc.publish(subject, encodeNow(def.kind, body, opts.trace) ?? (await encode(def.kind, body, opts.trace)));
    },
    stream(to, def, body, opts = {}) {
      return openReplyStream({ nc: o.nc, codec, blobs: o.blobs, encode, to, def, body, opts, mapRequestError });
    },
  };
}

/** A peer for code that is not an actor (CLI commands, tests, benchmarks). */
export function openPeer(o: Omit<PeerOptions, "from"> & { name?: string }): Peer {
  const name = (o.name ?? `p${process.pid}`).replace(/[^A-Za-z0-9_-]/g, "_");
  return createPeer({ ...o, from: `troupe.${o.run}._client.${name}` });
}
