// Operations that survive a NATS blip. nats.js drops publishes made while disconnected and
// lets requests in flight at a disconnect wait for their full timeout, so a KV write issued
// during a 0.4 s outage fails with TimeoutError 5 s later although the client was back after
// 0.5 s. `reconnectSafe` runs an operation so that it:
//   - waits for the connection before each attempt (never sends into the void),
//   - fails an attempt at once when the connection drops (DisconnectedError), not at its timeout,
//   - retries transient failures (timeouts, no responders while JetStream restarts, a dropped
//     connection) with a capped backoff, until a deadline or an abort,
//   - rethrows anything else at once (a compare-and-set conflict, a schema error, a closed
//     connection), and after the deadline throws NatsUnavailableError with the last cause.
// The operation must be safe to repeat; a compare-and-set decides that itself (see kv.ts).
//
//   const rev = await reconnectSafe(nc, () => kv.put(key, bytes), { what: `put ${key}` })
import { JetStreamApiError } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { NatsUnavailableError } from "../errors.js";
import { pause } from "../pause.js";
import { DisconnectedError, linkState, unlessDisconnected } from "./link-state.js";

export interface RetryOptions {
  /** what is being done, for errors and logs ("put troupe_r_jobs/s1-a1") */
  readonly what: string;
  /** give up after this long (default 60 s; a restarting server usually needs < 1 s) */
  readonly deadlineMs?: number;
  /** stops retrying: the last error (or the abort reason) is thrown */
  readonly signal?: AbortSignal;
  /** first backoff after a non-disconnect failure (default 50 ms, doubling up to 1 s) */
  readonly backoffMs?: number;
  /** hears every failed attempt that will be retried */
  readonly onRetry?: (err: Error, attempt: number) => void;
  /** hears every attempt that was held back until the connection came back */
  readonly onWait?: (attempt: number) => void;
}

const TRANSIENT_NAMES = new Set(["TimeoutError", "DisconnectedError", "JetStreamNotEnabled", "NoResponders", "ConnectionError", "ProtocolError"]);

/** Whether an error from a NATS operation may go away by itself (retry after reconnecting). */
export function isTransientNatsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof DisconnectedError) return true;
  // 503: JetStream is still recovering its streams after a restart
  if (err instanceof JetStreamApiError) return err.status === 503;
  if (TRANSIENT_NAMES.has(err.name)) return true;
  if (err.name === "RequestError") return (err as Error & { isNoResponders?: () => boolean }).isNoResponders?.() === true;
  // JetStream status replies without an API error body (408 request timeout, 503 no responders)
  if (err.name === "JetStreamStatusError") return [408, 503].includes((err as Error & { code?: number }).code ?? 0);
  return false;
}

/** Resolves when connected (now, or at the next reconnect), at `end`, or on abort; says whether it had to wait. */
async function connectedBy(nc: NatsConnection, end: number, signal?: AbortSignal): Promise<boolean> {
  const link = linkState(nc);
  if (link.connected || nc.isClosed()) return false;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  await Promise.race([
    link.whenConnected(),
    new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, end - Date.now())))),
    new Promise<void>((r) => {
      onAbort = () => r();
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  if (onAbort) signal?.removeEventListener("abort", onAbort);
  return true;
}

/** Runs `op` until it succeeds, across disconnects; see the file comment. */
export async function reconnectSafe<T>(nc: NatsConnection, op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const t0 = Date.now();
  const end = t0 + (o.deadlineMs ?? 60_000);
  let wait = o.backoffMs ?? 50;
  for (let attempt = 1; ; attempt++) {
    if (await connectedBy(nc, end, o.signal)) o.onWait?.(attempt);
    try {
      if (o.signal?.aborted) throw o.signal.reason ?? new Error(`${o.what}: aborted`);
      return await unlessDisconnected(nc, op(attempt), o.what);
    } catch (err) {
      if (o.signal?.aborted || nc.isClosed() || !isTransientNatsError(err)) throw err;
      if (Date.now() >= end) throw new NatsUnavailableError(o.what, Date.now() - t0, { cause: err });
      o.onRetry?.(err as Error, attempt);
      // a dropped connection: the next attempt waits for the reconnect, no backoff needed
      if (!(err instanceof DisconnectedError)) {
        await pause(Math.min(wait, Math.max(0, end - Date.now())), o.signal);
        wait = Math.min(wait * 2, 1000);
      }
    }
  }
}

/**
 * Whether `err` (or an error it wraps) is a NATS outage: a transient error, or an operation
 * that was retried past its deadline. Work that failed this way may be retried later; it must
 * never be recorded as the work's own failure.
 */
export function isNatsOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof NatsUnavailableError || isTransientNatsError(e)) return true;
  }
  return false;
}
