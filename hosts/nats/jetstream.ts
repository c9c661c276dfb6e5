// Small JetStream utilities shared by the durable helpers: idempotent stream creation and a
// publish that retries across reconnects until the server acknowledges it (deduplicated by
// message id).
import { type JetStreamManager, JetStreamApiError, type PubAck, type StreamConfig, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { reconnectSafe } from "./retry.js";

export async function manager(nc: NatsConnection): Promise<JetStreamManager> {
  return jetstreamManager(nc, { timeout: 10_000 });
}

/** Creates the stream, or leaves an existing one with the same name as it is. */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
  }
  try {
    await jsm.streams.add(config);
  } catch (err) {
    // another process created it between our info and add: fine if it exists now
    await jsm.streams.info(config.name).catch(() => {
      throw err;
    });
  }
}

export interface PublishOnceOptions {
  /** deduplication id: a second publish with the same id within the stream's window is dropped */
  msgId: string;
  headers?: MsgHdrs;
  /** per-attempt timeout (default 5 s) */
  timeoutMs?: number;
  /** give up after this long (default 60 s); a restarting server usually needs < 1 s */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/**
 * Publishes until JetStream acknowledges. Safe to retry because the message id makes every
 * retry after a lost acknowledgement a duplicate the server drops (PubAck.duplicate = true).
 * Reconnect-safe (retry.ts): waits for the connection, fails an attempt fast on a disconnect,
 * retries transient errors; NatsUnavailableError after the deadline.
 */
export async function publishOnce(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  opts: PublishOnceOptions,
): Promise<PubAck> {
  const js = jetstream(nc);
  return reconnectSafe(
    nc,
    () => js.publish(subject, data, { msgID: opts.msgId, headers: opts.headers, timeout: opts.timeoutMs ?? 5000 }),
    { what: `publish to ${subject}`, deadlineMs: opts.deadlineMs, signal: opts.signal },
  );
}

/**
 * Deletes every stream of a run (work queues, dead letters, results, KV and Object Store
 * buckets). For scenarios that ran on an external server and should leave nothing behind.
 */
export async function deleteRunStreams(nc: NatsConnection, run: string): Promise<string[]> {
  const jsm = await manager(nc);
  const prefixes = [`TROUPE_${run}_`, `KV_troupe_${run}_`, `OBJ_troupe_${run}_`];
  const gone: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (prefixes.some((p) => name.startsWith(p))) {
      await jsm.streams.delete(name);
      gone.push(name);
    }
  }
  return gone;
}
