// Opening links: a listener that accepts them for one named endpoint, and a dialer. The
// dialing side reads with net.Socket's `onread` straight into the frame reader's regions (an
// attachment lands in its destination without a copy); Node offers no such hook for accepted
// sockets, so the accepting side copies from 'data' chunks. Owners that receive the bulk put
// the dialer on the receiving end (thunder's ring dials the neighbour it receives from).
import { type Server, type Socket, createServer, connect as netConnect } from "node:net";
import { type Codec, createCodec } from "../../protocol/mod.js";
import { LinkConnectError } from "../errors.js";
import { type Link, type LinkHello, type LinkReadSlot, type LinkTiming, createLink } from "./link.js";

export interface LinkEndpointOptions extends LinkTiming {
  /** this endpoint's name (unique in the run, e.g. "<group>.<rank>" or a host name) */
  readonly name: string;
  readonly run: string;
  readonly codec?: Codec;
}

export interface ListenOptions extends LinkEndpointOptions {
  /** address to bind (default 127.0.0.1; a host's data address on a real network) */
  readonly host?: string;
  /** port (default 0: the OS picks one) */
  readonly port?: number;
  /** decides on each hello: null admits, a string refuses with that reason */
  readonly admit?: (hello: LinkHello) => string | null;
  /** each admitted link, once its handshake is done */
  readonly onLink: (link: Link) => void;
}

export interface LinkListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** stops accepting (links already open stay open); resolves once no longer listening */
  close(): Promise<void>;
}

/** Listens for links to endpoint `name`. */
export async function listenLinks(o: ListenOptions): Promise<LinkListener> {
  const codec = o.codec ?? createCodec();
  const host = o.host ?? "127.0.0.1";
  const server: Server = createServer({ noDelay: true }, (socket: Socket) => {
    const link = createLink({
      socket, local: o.name, run: o.run, codec, role: { accept: o.admit ?? (() => null) },
      heartbeatMs: o.heartbeatMs, deadAfterMs: o.deadAfterMs, maxQueuedBytes: o.maxQueuedBytes,
    });
    link.ready.then(() => o.onLink(link), () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new LinkConnectError(`cannot listen for links on ${host}:${o.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    name: o.name,
    host,
    port,
    // server.close's callback waits for every accepted connection to end: not what we mean
    close: async () => {
      if (server.listening) server.close();
    },
  };
}

export interface DialOptions extends LinkEndpointOptions {
  /** the endpoint to reach */
  readonly peer: string;
  readonly host: string;
  readonly port: number;
  /** what the peer's admit() sees */
  readonly meta?: Record<string, unknown>;
  /** give up connecting after this long (default 10 s) */
  readonly connectTimeoutMs?: number;
  /** local address to connect from (the host's data address) */
  readonly localAddress?: string;
}

const PRE_READ = 64 * 1024;

/** Dials a link and waits for its handshake. */
export async function dialLink(o: DialOptions): Promise<Link> {
  const codec = o.codec ?? createCodec();
  const slot: LinkReadSlot = { target: null };
  // bytes read before the link bound its reader (none in practice: reads start after 'connect')
  const early: Uint8Array[] = [];
  const scratch = new Uint8Array(PRE_READ);
  const socket = netConnect({
    host: o.host,
    port: o.port,
    noDelay: true,
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    onread: {
      buffer: () => slot.target?.region() ?? scratch,
      // Node asks for the next read's buffer right after each read, and for the first one
      // when the socket is made: that first read (and any before the link exists) lands in
      // `scratch` and is copied through
      callback: (n: number, buf: Uint8Array) => {
        if (buf !== scratch) slot.target!.advance(n);
        else if (slot.target) slot.target.feed(buf.subarray(0, n));
        else early.push(buf.slice(0, n));
        return true;
      },
    },
  } as never);
  const timeoutMs = o.connectTimeoutMs ?? 10_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LinkConnectError(`cannot reach link endpoint ${o.peer} at ${o.host}:${o.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new LinkConnectError(`cannot reach link endpoint ${o.peer} at ${o.host}:${o.port}: ${err.message}`, { cause: err }));
    });
  });
  const link = createLink({
    socket, local: o.name, run: o.run, codec, slot, role: { dial: { peer: o.peer, meta: o.meta ?? {} } },
    heartbeatMs: o.heartbeatMs, deadAfterMs: o.deadAfterMs, maxQueuedBytes: o.maxQueuedBytes,
  });
  for (const chunk of early) slot.target!.feed(chunk);
  await link.ready;
  return link;
}
