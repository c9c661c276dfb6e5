// Polling and small synchronisation helpers for tests: wait for a condition or an event,
// never for a fixed time.

export interface CheckOptions {
  /** give up after this long (default 15 s) */
  timeoutMs?: number;
  /** poll interval (default 20 ms) */
  intervalMs?: number;
  /** what is being waited for, for the failure message */
  what?: string;
}

/**
 * Polls `fn` until it returns a truthy value (which is returned) or the timeout passes.
 * A throw from `fn` counts as "not yet"; the last one is reported on timeout.
 */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

export async function check<T>(fn: () => T | Promise<T>, opts: CheckOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 15_000, intervalMs = 20, what = "condition" } = opts;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${why})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface Deferred<T> extends Promise<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const p = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  }) as Deferred<T>;
  p.resolve = resolve;
  p.reject = reject;
  return p;
}

/** Resolves once unlock() was called `count` times; rejects after timeoutMs. */
export class Lock implements PromiseLike<void> {
  private left: number;
  private readonly done = deferred<void>();
  private readonly timer: NodeJS.Timeout;
  constructor(count: number, timeoutMs = 15_000) {
    this.left = count;
    this.timer = setTimeout(() => this.done.reject(new Error(`lock timed out with ${this.left} of ${count} unlocks missing`)), timeoutMs);
    if (count <= 0) this.finish();
  }
  unlock(): void {
    if (--this.left === 0) this.finish();
  }
  private finish(): void {
    clearTimeout(this.timer);
    this.done.resolve();
  }
  then<R1 = void, R2 = never>(ok?: ((v: void) => R1 | PromiseLike<R1>) | null, bad?: ((e: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.done.then(ok, bad);
  }
}

let counter = 0;
/** A name unique across test files running in parallel: valid as a subject token and stream name. */
export function uniqueName(prefix = "t"): string {
  return `${prefix}${process.pid.toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
