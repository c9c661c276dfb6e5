// A host's heartbeat: its registry record written every `everyMs`, one write at a time. A write
// made while NATS is away waits for the reconnect (reconnect-safe KV), so a beat is late rather
// than lost or doubled; the next one carries the newest record. `beat()` writes at once (a
// change worth telling now: an actor started or stopped, the host is leaving).
import { pause } from "../pause.js";
import type { HostRecord } from "./record.js";
import type { HostRegistry } from "./registry.js";

export interface HeartbeatOptions {
  readonly registry: Pick<HostRegistry, "put">;
  readonly everyMs: number;
  /** the record to write, built at each beat (seq and beatAt are filled in here) */
  readonly record: () => Omit<HostRecord, "seq" | "beatAt">;
  readonly onError?: (err: Error) => void;
  /** the clock (default Date.now) */
  readonly now?: () => number;
}

export interface Heartbeat {
  /** beats written so far */
  readonly beats: number;
  /** writes a beat now (after the one in flight, if any) and resolves when it is stored */
  beat(): Promise<void>;
  /** stops beating; resolves when the write in flight (if any) is over */
  stop(): Promise<void>;
}

export function startHeartbeat(o: HeartbeatOptions): Heartbeat {
  const now = o.now ?? Date.now;
  const stopper = new AbortController();
  let seq = 0;
  let beats = 0;
  let chain: Promise<void> = Promise.resolve();
  const write = (): Promise<void> => {
    chain = chain.then(async () => {
      try {
        await o.registry.put({ ...o.record(), seq: seq++, beatAt: now() } as HostRecord);
        beats++;
      } catch (err) {
        o.onError?.(err as Error);
      }
    });
    return chain;
  };
  const loop = (async () => {
    while (!stopper.signal.aborted) {
      await write();
      await pause(o.everyMs, stopper.signal);
    }
  })();
  return {
    get beats() {
      return beats;
    },
    beat: write,
    async stop() {
      stopper.abort();
      await loop;
      await chain;
    },
  };
}
