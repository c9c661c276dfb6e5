// Streamed replies. The caller subscribes to a fresh inbox and publishes its request with that
// inbox as reply subject; the actor publishes sys.stream.item {i, value} messages in order,
// then sys.stream.end {count} (or sys.stream.error). The caller checks the order and the
// count, so a lost item is an error, never a silent gap. There is no flow control: a stream
// suits results of bounded size (eval batches, sampled tokens), not bulk transfer (links).
import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import {
  type BlobStore,
  type Codec,
  type MessageDef,
  MalformedMessageError,
  Reply,
  StreamEnd,
  StreamError,
  StreamItem,
  hasTensorRefs,
  resolveTensorRefs,
} from "../../protocol/mod.js";
import { CallTimeoutError, NoResponderError, RemoteError } from "../errors.js";

export interface ReplyStreamArgs {
  nc: NatsConnection;
  codec: Codec;
  blobs: BlobStore | undefined;
  encode(kind: string, body: unknown, trace?: string): Promise<Uint8Array>;
  to: string;
  def: MessageDef;
  body: unknown;
  opts: { idleTimeoutMs?: number; trace?: string };
  mapRequestError(err: unknown, to: string, kind: string, timeoutMs: number): unknown;
}

export function openReplyStream(a: ReplyStreamArgs): AsyncIterable<never> {
  const idle = a.opts.idleTimeoutMs ?? 10_000;
  return {
    async *[Symbol.asyncIterator]() {
      const inbox = createInbox();
      const sub = a.nc.subscribe(inbox);
      const it = sub[Symbol.asyncIterator]();
      try {
        a.nc.publish(a.to, await a.encode(a.def.kind, a.body, a.opts.trace), { reply: inbox });
        let expected = 0;
        for (;;) {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new CallTimeoutError(a.to, a.def.kind, idle)), idle);
          });
          let next;
          try {
            next = await Promise.race([it.next(), timeout]);
          } finally {
            clearTimeout(timer);
          }
          if (next.done) throw new MalformedMessageError(`stream from ${a.to} ended without sys.stream.end`);
          const msg = next.value;
          if (msg.data.length === 0 && msg.headers?.code === 503) throw new NoResponderError(a.to, a.def.kind);
          const env = a.codec.decode(msg.data);
          if (env.kind === StreamItem.kind) {
            const { i, value } = StreamItem.body.parse(env.body, env.kind);
            if (i !== expected) throw new MalformedMessageError(`stream from ${a.to}: item ${i} arrived, expected ${expected}`);
            expected++;
            const v = hasTensorRefs(value) ? await resolveTensorRefs(value, a.blobs) : value;
            yield (a.def.reply ? a.def.reply.parse(v, `${a.def.kind} item`) : v) as never;
          } else if (env.kind === StreamEnd.kind) {
            const { count } = StreamEnd.body.parse(env.body, env.kind);
            if (count !== expected) throw new MalformedMessageError(`stream from ${a.to} ended after ${count} items, received ${expected}`);
            return;
          } else if (env.kind === StreamError.kind) {
            throw new RemoteError(a.to, a.def.kind, StreamError.body.parse(env.body, env.kind).error);
          } else if (env.kind === Reply.kind) {
            const r = Reply.body.parse(env.body, env.kind);
            throw r.ok ? new MalformedMessageError(`${a.to} answered a stream with a single reply`) : new RemoteError(a.to, a.def.kind, r.error);
          } else {
            throw new MalformedMessageError(`unexpected ${env.kind} in a stream from ${a.to}`);
          }
        }
      } catch (err) {
        throw a.mapRequestError(err, a.to, a.def.kind, idle);
      } finally {
        sub.unsubscribe();
      }
    },
  };
}
