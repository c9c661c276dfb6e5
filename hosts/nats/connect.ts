// Connecting to NATS, embedded or external, with the reconnect policy troupe relies on: an
// actor keeps reconnecting forever (a restarted server comes back on the same URL).
// Beware: nats.js v3 DROPS core publishes made while disconnected (it resets its outbound
// buffer before each reconnect). Anything that must arrive goes through JetStream with
// publishOnce() (retried, deduplicated) or is a call whose caller retries on timeout.
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsConnectError } from "../errors.js";
import { type NatsServerHandle, type NatsServerOptions, startNatsServer } from "./launcher.js";

export type { NatsConnection } from "@nats-io/transport-node";

export interface ConnectOptions {
  /** connection name shown by the server (e.g. the actor address) */
  name?: string;
  /** give up the first connect after this long (default 10 s) */
  timeoutMs?: number;
  /** reconnect forever (default) or not */
  reconnect?: boolean;
}

export type NatsTarget = string | Pick<NatsServerHandle, "url">;

/** Connects to a URL (nats://host:port, several separated by commas) or an embedded server. */
export async function connectNats(target: NatsTarget, opts: ConnectOptions = {}): Promise<NatsConnection> {
  const url = typeof target === "string" ? target : target.url;
  try {
    return await connect({
      servers: url.split(",").map((s) => s.trim()),
      name: opts.name ?? `troupe-${process.pid}`,
      timeout: opts.timeoutMs ?? 10_000,
      reconnect: opts.reconnect ?? true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      reconnectJitter: 50,
      pingInterval: 20_000,
      noRandomize: true,
      // nats.js otherwise builds an Error (a stack capture, ~30 µs) per request for async traces
      noAsyncTraces: true,
      ignoreClusterUpdates: false,
    });
  } catch (err) {
    throw new NatsConnectError(
      `cannot connect to NATS at ${url}: ${(err as Error).message}. Is nats-server running there?`,
      { cause: err, url },
    );
  }
}

/** A NATS connection plus the embedded server it runs on, if troupe started one. */
export interface NatsSession {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly server: NatsServerHandle | undefined;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `--nats URL` given: connect to it. Otherwise start an embedded server (JetStream, temp
 * store) and connect to that. close() drains the connection and stops what it started.
 */
export async function openNats(opts: { url?: string; name?: string; server?: NatsServerOptions } = {}): Promise<NatsSession> {
  const server = opts.url ? undefined : await startNatsServer(opts.server);
  const url = opts.url ?? server!.url;
  let nc: NatsConnection;
  try {
    nc = await connectNats(url, { name: opts.name });
  } catch (err) {
    await server?.stop();
    throw err;
  }
  const close = async () => {
    await nc.drain().catch(() => nc.close());
    await server?.stop();
  };
  return { url, nc, server, close, [Symbol.asyncDispose]: close };
}
