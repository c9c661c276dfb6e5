// The pull loop behind WorkQueue.process(): `concurrency` slots, each fetching one job only
// when it is free, so no job waits in a client buffer while its ack timer runs. Survives
// server restarts: failed fetches are retried with a capped backoff until stopped.
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { pause } from "../pause.js";

export interface WorkerHandle {
  /** stop fetching, let the jobs in hand finish, resolve when all slots are idle */
  stop(): Promise<void>;
  /** resolves when the worker has stopped (by stop() or its signal) */
  readonly done: Promise<void>;
  /** jobs this worker took in hand so far */
  readonly taken: number;
}

export interface WorkerOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  stream: string;
  consumer: string;
  concurrency: number;
  signal?: AbortSignal;
  log?: Logger;
  handle(m: JsMsg, stop: AbortSignal): Promise<void>;
}

const FETCH_EXPIRES_MS = 5000;

export async function runWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const stop = new AbortController();
  if (o.signal) {
    if (o.signal.aborted) stop.abort();
    else o.signal.addEventListener("abort", () => stop.abort(), { once: true });
  }
  const active = new Set<ConsumerMessages>();
  // A pull request in flight when the server restarts is gone with it, but the client would
  // wait for its expiry; after a reconnect, end the pending fetches so the slots pull again.
  const status = o.nc.status() as AsyncIterable<{ type: string }> & { stop?(): void };
  void (async () => {
    for await (const s of status) if (s.type === "reconnect") for (const it of active) it.stop();
  })();
  stop.signal.addEventListener("abort", () => {
    status.stop?.();
    for (const it of active) it.stop();
  });
  let taken = 0;

  async function slot(n: number): Promise<void> {
    let wait = 50;
    let c: Consumer | null = null;
    while (!stop.signal.aborted) {
      if (o.nc.isClosed()) return; // a closed connection never comes back: nothing more to do
      let it: ConsumerMessages;
      try {
        c ??= await o.js.consumers.get(o.stream, o.consumer);
        it = await c.fetch({ max_messages: 1, expires: FETCH_EXPIRES_MS });
      } catch (err) {
        c = null;
        o.log?.debug({ slot: n, err: (err as Error).message }, "fetch failed; retrying");
        await pause(wait, stop.signal);
        wait = Math.min(wait * 2, 1000);
        continue;
      }
      wait = 50;
      active.add(it);
      if (stop.signal.aborted) it.stop();
      try {
        for await (const m of it) {
          if (stop.signal.aborted) {
            m.nak(); // give it straight back rather than let its ack timer run out
            continue;
          }
          taken++;
          try {
            await o.handle(m, stop.signal);
          } catch (err) {
            // an ack that could not reach the server: the job comes back after ack_wait
            o.log?.warn({ err: (err as Error).message }, "job outcome not acknowledged; it will be redelivered");
          }
          break; // one job per fetch: the slot is free again, fetch the next
        }
      } catch (err) {
        o.log?.debug({ slot: n, err: (err as Error).message }, "fetch ended with an error");
        await pause(wait, stop.signal);
      } finally {
        it.stop();
        active.delete(it);
      }
    }
  }

  const done = Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, (_, i) => slot(i))).then(() => undefined);
  return {
    async stop() {
      stop.abort();
      await done;
    },
    done,
    get taken() {
      return taken;
    },
  };
}

