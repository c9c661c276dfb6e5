// Restart timing of the supervisor, kept pure so it is tested without processes.

export interface BackoffPolicy {
  /** delay before the first restart of a crashing child */
  initialMs: number;
  /** the delay never grows beyond this */
  maxMs: number;
  /** growth per consecutive failure */
  factor: number;
  /** a child that ran this long before failing starts again from initialMs */
  resetAfterMs: number;
}

export interface IntensityPolicy {
  /** restarts allowed within the window (OTP's MaxR) */
  maxRestarts: number;
  /** the sliding window (OTP's MaxT) */
  withinMs: number;
}

/** Delay before restart number `consecutive` (1-based) of a child that keeps failing. */
export function backoffDelay(p: BackoffPolicy, consecutive: number): number {
  const n = Math.max(1, consecutive);
  return Math.min(p.maxMs, Math.round(p.initialMs * Math.pow(p.factor, n - 1)));
}

/** Counts restarts in a sliding window; allow() is false once one more would exceed the limit. */
export class RestartIntensity {
  private readonly times: number[] = [];
  constructor(readonly policy: IntensityPolicy) {}

  /** records a restart at `now` if allowed; returns whether it is */
  allow(now: number): boolean {
    while (this.times.length > 0 && now - this.times[0]! > this.policy.withinMs) this.times.shift();
    if (this.times.length >= this.policy.maxRestarts) return false;
    this.times.push(now);
    return true;
  }

  count(): number {
    return this.times.length;
  }
}
