// The director's only source of time. Production uses the system clock; tests pass xstate's
// SimulatedClock (which has `now`, `setTimeout`, `clearTimeout`) and advance it by hand.
// Every timestamp in the run record and every timer (attempt timeout, retry backoff, run
// limit) goes through one injected DirectorClock.
/** The shape of xstate's clock (`createActor(m, { clock })`) plus `now()`. */
export interface DirectorClock {
  /** Milliseconds; only differences matter. */
  now(): number;
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const systemClock: DirectorClock = {
  now: () => Date.now(),
  setTimeout: (fn: (...args: unknown[]) => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: unknown) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * Resolves once the clock reaches `until` (ms); never resolves for `until === null`.
 * Rejects with the signal's reason when aborted, and clears its timer.
 */
export function waitUntil(clock: DirectorClock, until: number | null, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    let id: unknown;
    const onAbort = () => {
      if (id !== undefined) clock.clearTimeout(id);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (until === null) return;
    const left = until - clock.now();
    if (left <= 0) {
      signal.removeEventListener("abort", onAbort);
      return resolve();
    }
    id = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, left);
  });
}
