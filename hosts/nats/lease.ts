// Leases with epochs (fencing tokens) in JetStream KV: bucket troupe_<run>_leases, one key per
// leased thing ("director": who runs the run's curriculum). Whoever acquires a lease writes
// epoch + 1 with compare-and-set, so the newest holder wins and every earlier one is stale at
// once — no waiting for a timeout, which is what a restarted process needs. A stale holder
// finds out when it checks or renews (FencedError); a receiver of commands refuses a command
// that carries an epoch below the current one. Fencing is thus two-sided:
//   - the holder checks before acting (`check`, `renew`, `keep`) and stops when fenced;
//   - whoever executes its commands compares the command's epoch with `current()`.
// `renewedAt` tells others whether the holder still lives (a holder renews every few seconds).
//
//   const lease = await openLease(nc, { run, name: "director", holder: ctx.address })
//   const { epoch } = await lease.acquire()
//   const keeper = lease.keep(epoch, { everyMs: 2000, onFenced: (err) => stopActing(err) })
//   ... await lease.check(epoch) before a write that must not come from a stale holder ...
import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import { t } from "../../protocol/mod.js";
import { CasConflictError, FencedError, isFencedError } from "../errors.js";
import { type RunState, openRunState } from "./kv.js";

export const LeaseRecordSchema = t.object({
  epoch: t.int({ min: 1 }),
  holder: t.string({ maxLength: 256 }),
  host: t.string({ maxLength: 256 }),
  pid: t.int({ min: 0 }),
  /** when this epoch was acquired (ms since the epoch) */
  since: t.number(),
  /** the holder's last renewal */
  renewedAt: t.number(),
});

export interface LeaseRecord {
  readonly epoch: number;
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  readonly since: number;
  readonly renewedAt: number;
}

export interface LeaseOptions {
  run: string;
  /** what is leased: the KV key */
  name: string;
  /** who acquires it (an actor address); readers that only check may pass their own */
  holder: string;
  /** KV bucket purpose (default "leases" → troupe_<run>_leases) */
  bucket?: string;
  /** how long one KV operation is retried across reconnects (default 60 s) */
  deadlineMs?: number;
}

export interface LeaseKeeper {
  stop(): void;
}

export interface Lease {
  readonly name: string;
  /** takes the lease with the next epoch; every earlier holder is stale from now on */
  acquire(): Promise<LeaseRecord>;
  /** the current record, or null if nobody ever took the lease */
  current(): Promise<LeaseRecord | null>;
  /** the current record if `epoch` is still current; FencedError otherwise */
  check(epoch: number): Promise<LeaseRecord>;
  /** records a renewal if `epoch` is still current; FencedError otherwise */
  renew(epoch: number): Promise<LeaseRecord>;
  /**
   * Renews every `everyMs` until stopped. When a newer epoch shows up, calls `onFenced` once and
   * stops. Other failures (NATS away longer than the KV deadline) go to `onError` and the next
   * renewal tries again.
   */
  keep(epoch: number, o: { everyMs: number; onFenced: (err: FencedError) => void; onError?: (err: Error) => void }): LeaseKeeper;
}

export async function openLease(nc: NatsConnection, o: LeaseOptions): Promise<Lease> {
  const state: RunState<LeaseRecord> = await openRunState(nc, {
    run: o.run,
    bucket: o.bucket ?? "leases",
    schema: LeaseRecordSchema,
    history: 8,
    from: o.holder,
    ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
  });
  const fenced = (epoch: number, cur: LeaseRecord | null) => new FencedError(o.name, epoch, cur?.epoch ?? 0, cur?.holder ?? null);

  const lease: Lease = {
    name: o.name,
    async acquire() {
      const now = Date.now();
      const { value } = await state.update(
        o.name,
        (prev) => ({ epoch: (prev?.epoch ?? 0) + 1, holder: o.holder, host: hostname(), pid: process.pid, since: now, renewedAt: now }),
        { maxRetries: 100 },
      );
      return value;
    },
    async current() {
      return (await state.get(o.name))?.value ?? null;
    },
    async check(epoch) {
      const cur = await lease.current();
      if (!cur || cur.epoch !== epoch) throw fenced(epoch, cur);
      return cur;
    },
    async renew(epoch) {
      for (;;) {
        const cur = await state.get(o.name);
        if (!cur || cur.value.epoch !== epoch) throw fenced(epoch, cur?.value ?? null);
        const next = { ...cur.value, renewedAt: Date.now() };
        try {
          await state.cas(o.name, next, cur.revision);
          return next;
        } catch (err) {
          if (!(err instanceof CasConflictError)) throw err; // moved since the read: look again
        }
      }
    },
    keep(epoch, k) {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const tick = async () => {
        if (stopped) return;
        try {
          await lease.renew(epoch);
        } catch (err) {
          if (stopped) return;
          if (isFencedError(err)) {
            stopped = true;
            k.onFenced(err);
            return;
          }
          k.onError?.(err as Error);
        }
        if (!stopped) timer = setTimeout(() => void tick(), k.everyMs);
      };
      timer = setTimeout(() => void tick(), k.everyMs);
      return {
        stop() {
          stopped = true;
          clearTimeout(timer);
        },
      };
    },
  };
  return lease;
}
