// The pool scheduler (client side). Callers submit rows (one sequence each, with what they
// want back); the scheduler packs waiting rows into requests (packing.ts), sends each to a
// worker with a free core — it owns core assignment: at most one request per core of a
// worker, so nothing waits in a worker's queue — and hands every row its own result. A row
// whose attempt fails with a retryable status goes back to the front of the queue and to
// another worker; one that runs past its deadline fails with PoolDeadlineError; a caller's
// mistake (INVALID_ARGUMENT, OUT_OF_RANGE, ...) fails at once. Workers that die or drain leave
// the rotation (workers.ts) and come back when healthy; when the pool is given a model, every
// worker that serves another one is told to load it first.
import { PoolReason } from "../../../protocol/mod.js";
import { PoolCallError, PoolConfigError, PoolDeadlineError, PoolRequestError } from "../../errors.js";
import { type Logger, componentLogger } from "../../logger.js";
import { checkAddress } from "../client.js";
import type { Bucket, ObjectStoreSource } from "../proto.js";
import { callError } from "../status.js";
import { createPoolCounters, type PoolMetrics } from "./metrics.js";
import { type PackingPolicy, pickRows, seqBucketOf } from "./packing.js";
import { type RowOutputs, type RowResult, batchRequest, outputsKey, splitChunk } from "./rows.js";
import { type TrackedWorker, trackWorkers } from "./workers.js";

export interface PoolModel {
  /** The id requests name it by. */
  readonly id: string;
  /** SHA-256 of its model.safetensors: a worker serving other weights is told to load these. */
  readonly digest: string;
  readonly source: { readonly path: string } | { readonly objectStore: ObjectStoreSource };
}

export interface PoolOptions {
  /** HOST:PORT of each worker. */
  readonly workers: readonly string[];
  readonly policy?: PackingPolicy;
  /** The buckets the workers must have compiled; default: whatever the first worker reports. */
  readonly buckets?: readonly Bucket[];
  /** Per row, from submission (default 60 s). */
  readonly deadlineMs?: number;
  /** Attempts per row, the first included (default 4). */
  readonly maxAttempts?: number;
  /** How long a partly filled bucket waits for company (bucketed policy; default 5 ms). */
  readonly maxWaitMs?: number;
  /** Health probe interval of a worker out of rotation (default 500 ms). */
  readonly healthIntervalMs?: number;
  readonly model?: PoolModel | null;
  readonly log?: Logger;
}

export interface PoolRowResult extends RowResult {
  readonly worker: string;
  readonly attempts: number;
  readonly latencyMs: number;
}

export interface Pool {
  /** Resolves once `workers` (default 1) workers serve the pool's model; rejects after timeoutMs. */
  ready(o?: { timeoutMs?: number; workers?: number }): Promise<void>;
  /** One row: token ids (length 1..the longest bucket) and what to return. */
  forward(tokens: Int32Array, outputs: RowOutputs, o?: { deadlineMs?: number }): Promise<PoolRowResult>;
  /**
   * Serve this model from now on (workers load it); resolves when one worker serves it. Rows
   * already submitted finish on the model they were submitted for: a switch waits for them.
   */
  useModel(model: PoolModel, o?: { timeoutMs?: number }): Promise<void>;
  readonly policy: PackingPolicy;
  metrics(): PoolMetrics;
  /** Latencies (ms) of rows answered in [from, to), times in ms since the epoch. */
  latencies(from?: number, to?: number): number[];
  /** Rows waiting for a core. */
  queued(): number;
  close(): Promise<void>;
}

interface Row {
  readonly tokens: Int32Array;
  readonly outputs: RowOutputs;
  readonly key: string;
  readonly length: number;
  readonly submittedAt: number;
  readonly deadline: number;
  readonly deadlineMs: number;
  queuedAt: number;
  attempts: number;
  avoid: string | null;
  lastError: PoolCallError | null;
  resolve(r: PoolRowResult): void;
  reject(e: Error): void;
}

const RETRYABLE = new Set(["UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN", "ABORTED"]);

export function createPool(o: PoolOptions): Pool {
  if (o.workers.length === 0) throw new PoolConfigError("a pool needs at least one worker address");
  o.workers.forEach(checkAddress);
  const policy = o.policy ?? "bucketed";
  const deadlineMs = o.deadlineMs ?? 60_000;
  const maxAttempts = o.maxAttempts ?? 4;
  const maxWaitMs = o.maxWaitMs ?? 5;
  const log = o.log ?? componentLogger("pool");
  const counters = createPoolCounters(policy);
  let model: PoolModel | null = o.model ?? null;
  let closed = false;
  let queue: Row[] = [];
  let rr = 0;
  let nextRequest = 0;
  let wake: NodeJS.Timeout | null = null;
  const waiters: { n: number; resolve(): void }[] = [];
  const loadFailedAt = new Map<TrackedWorker, number>();
  /** Woken whenever a request ends (useModel waits for the rows of the previous model). */
  const idle: (() => void)[] = [];

  const eligible = (w: TrackedWorker) => w.status === "ready" && !w.loading && w.info !== null && (model === null || w.digest === model.digest);

  const workers = trackWorkers({
    addresses: o.workers,
    healthIntervalMs: o.healthIntervalMs ?? 500,
    buckets: o.buckets ?? null,
    log,
    onChange: () => changed(),
  });

  /** After any change of a worker: load the model where needed, wake whoever waits for workers, send rows. */
  function changed(): void {
    ensureModel();
    const n = workers.list.filter(eligible).length;
    for (const w of [...waiters]) {
      if (n >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    dispatch();
  }

  function ensureModel(): void {
    if (!model || closed) return;
    const m = model;
    for (const w of workers.list) {
      if (!(w.status === "ready" || w.status === "starting") || w.loading || w.digest === m.digest || !w.info) continue;
      if (Date.now() - (loadFailedAt.get(w) ?? 0) < 5000) continue;
      w.loading = true;
      const src = "path" in m.source ? { path: m.source.path, source: "path" as const } : { objectStore: m.source.objectStore, source: "objectStore" as const };
      log.info({ worker: w.address, model: m.id }, "pool worker: loading the pool's model");
      w.client.load({ modelId: m.id, digest: m.digest, ...src }).then(
        (r) => {
          w.digest = r.model?.digest ?? w.digest;
        },
        (err: Error) => {
          loadFailedAt.set(w, Date.now());
          w.problem = `loading ${m.id} failed: ${err.message}`;
          log.error({ worker: w.address, err: err.message }, "pool worker could not load the model");
          setTimeout(() => ensureModel(), 5000).unref();
        },
      ).finally(() => {
        w.loading = false;
        changed();
      });
    }
  }

  const fail = (r: Row, err: Error) => {
    counters.c.failed++;
    if (err instanceof PoolDeadlineError) counters.c.deadlineExceeded++;
    r.reject(err);
    queueMicrotask(() => {
      for (const f of idle.splice(0)) f();
    });
  };

  function expire(now: number): void {
    if (!queue.some((r) => r.deadline <= now)) return;
    const keep: Row[] = [];
    for (const r of queue) {
      if (r.deadline <= now) fail(r, new PoolDeadlineError(r.deadlineMs, r.attempts, r.lastError ? { cause: r.lastError } : undefined));
      else keep.push(r);
    }
    queue = keep;
  }

  function pickWorker(rows: readonly Row[]): TrackedWorker | null {
    let free = workers.list.filter((w) => eligible(w) && w.busy < w.info!.cores);
    if (free.length === 0) return null;
    const avoid = new Set(rows.map((r) => r.avoid).filter((a): a is string => a !== null));
    const fresh = free.filter((w) => !avoid.has(w.address));
    if (fresh.length > 0) free = fresh;
    if (policy === "naive") return free[0]!; // first fit, in list order
    const load = (w: TrackedWorker) => w.busy / w.info!.cores;
    const least = Math.min(...free.map(load));
    const tied = free.filter((w) => load(w) === least);
    return tied[rr++ % tied.length]!;
  }

  function dispatch(): void {
    if (closed) return;
    if (wake) {
      clearTimeout(wake);
      wake = null;
    }
    const now = Date.now();
    expire(now);
    const buckets = workers.buckets();
    if (buckets && queue.some((r) => seqBucketOf(buckets, r.length) === 0)) {
      // submitted before the buckets were known, and longer than all of them
      const max = Math.max(...buckets.map((b) => b.seqLen));
      queue = queue.filter((r) => {
        if (seqBucketOf(buckets, r.length) !== 0) return true;
        fail(r, new PoolRequestError(`a row of ${r.length} tokens is longer than every bucket (the longest holds ${max})`, { attempts: 0, status: "OUT_OF_RANGE", reason: PoolReason.sequenceTooLong }));
        return false;
      });
    }
    let wakeAt: number | null = null;
    while (buckets && queue.length > 0) {
      if (!workers.list.some((w) => eligible(w) && w.busy < w.info!.cores)) break;
      const picked = pickRows(policy, queue, buckets, performance.now(), maxWaitMs);
      if (!picked.pick) {
        if (picked.wakeAt !== null) wakeAt = now + Math.max(1, picked.wakeAt - performance.now());
        break;
      }
      const take = new Set(picked.pick.rows);
      const rows = picked.pick.rows.map((i) => queue[i]!);
      const w = pickWorker(rows)!;
      queue = queue.filter((_, i) => !take.has(i));
      send(w, rows);
    }
    const nextDeadline = queue.reduce((m, r) => Math.min(m, r.deadline), Infinity);
    const at = Math.min(wakeAt ?? Infinity, nextDeadline);
    if (Number.isFinite(at)) wake = setTimeout(dispatch, Math.max(1, at - Date.now()));
  }

  function send(w: TrackedWorker, rows: Row[]): void {
    w.busy++;
    w.stats.calls++;
    counters.c.calls++;
    for (const r of rows) r.attempts++;
    const lengths = rows.map((r) => r.length);
    const T = Math.max(...lengths);
    const outputs = rows[0]!.outputs;
    const req = batchRequest(rows.map((r) => r.tokens), outputs, model?.id ?? "", `${nextRequest++}`);
    const answered = new Set<number>();
    let badReply: PoolCallError | null = null;
    w.client
      .forward(req, {
        deadline: Math.min(...rows.map((r) => r.deadline)),
        onChunk: (c) => {
          if (badReply) return;
          try {
            const got = splitChunk(c, lengths, T, outputs, w.address);
            if (c.execution) counters.execution(c.execution, w.stats);
            for (const [i, res] of got) {
              if (answered.has(i)) continue;
              answered.add(i);
              const r = rows[i]!;
              const latencyMs = Date.now() - r.submittedAt;
              counters.answered(latencyMs);
              w.stats.rows++;
              r.resolve({ ...res, worker: w.address, attempts: r.attempts, latencyMs });
            }
          } catch (err) {
            badReply = callError(err, w.address);
          }
        },
      })
      .then(
        () => {
          const missing = rows.filter((_, i) => !answered.has(i));
          if (badReply || missing.length > 0) {
            failed(w, missing, badReply ?? new PoolCallError({ status: "INTERNAL", reason: "BAD_REPLY", worker: w.address, message: `the reply left ${missing.length} of ${rows.length} rows unanswered` }));
          }
        },
        (err: unknown) => failed(w, rows.filter((_, i) => !answered.has(i)), callError(err, w.address)),
      )
      .finally(() => {
        w.busy--;
        dispatch();
        for (const f of idle.splice(0)) f();
      });
  }

  function failed(w: TrackedWorker, rows: Row[], err: PoolCallError): void {
    w.stats.failedCalls++;
    log.warn({ worker: w.address, status: err.status, reason: err.reason, rows: rows.length, err: err.message }, "pool call failed");
    if (err.status === "UNAVAILABLE") {
      if (err.reason === PoolReason.draining) workers.markDraining(w);
      else if (err.reason !== PoolReason.notReady) workers.markDown(w, err.message);
    }
    const lostModel = err.status === "NOT_FOUND" && err.reason === PoolReason.modelNotFound && model !== null;
    if (lostModel) w.digest = "";
    const retryable = RETRYABLE.has(err.status) || lostModel;
    const now = Date.now();
    const again: Row[] = [];
    for (const r of rows) {
      r.lastError = err;
      if (r.deadline <= now) fail(r, new PoolDeadlineError(r.deadlineMs, r.attempts, { cause: err }));
      else if (!retryable) fail(r, new PoolRequestError(`the worker refused the request: ${err.message}`, { attempts: r.attempts, status: err.status, reason: err.reason }, { cause: err }));
      else if (r.attempts >= maxAttempts) fail(r, new PoolRequestError(`gave up after ${r.attempts} attempts; the last: ${err.message}`, { attempts: r.attempts, status: err.status, reason: err.reason }, { cause: err }));
      else {
        r.avoid = w.address;
        r.queuedAt = performance.now() - maxWaitMs; // its wait is over: it goes with the next group out
        counters.c.retried++;
        again.push(r);
      }
    }
    queue = [...again, ...queue];
  }

  return {
    policy,
    ready(opts = {}) {
      const n = opts.workers ?? 1;
      if (workers.list.filter(eligible).length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const entry = { n, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(entry), 1);
          const why = workers.list.map((w) => `${w.address} ${w.status}${w.problem ? ` (${w.problem})` : ""}`).join("; ");
          reject(new PoolRequestError(`fewer than ${n} pool worker(s) ready after ${opts.timeoutMs ?? 60_000} ms: ${why}`, { attempts: 0 }));
        }, opts.timeoutMs ?? 60_000);
        waiters.push(entry);
      });
    },
    forward(tokens, outputs, opts = {}) {
      if (closed) return Promise.reject(new PoolRequestError("the pool is closed", { attempts: 0 }));
      const buckets = workers.buckets();
      if (tokens.length === 0) return Promise.reject(new PoolRequestError("an empty row (give at least one token)", { attempts: 0, reason: PoolReason.badLengths }));
      if (buckets && seqBucketOf(buckets, tokens.length) === 0) {
        const max = Math.max(...buckets.map((b) => b.seqLen));
        return Promise.reject(new PoolRequestError(`a row of ${tokens.length} tokens is longer than every bucket (the longest holds ${max})`, { attempts: 0, status: "OUT_OF_RANGE", reason: PoolReason.sequenceTooLong }));
      }
      counters.c.requests++;
      const ms = opts.deadlineMs ?? deadlineMs;
      return new Promise<PoolRowResult>((resolve, reject) => {
        const now = Date.now();
        queue.push({ tokens, outputs, key: outputsKey(outputs), length: tokens.length, submittedAt: now, deadline: now + ms, deadlineMs: ms, queuedAt: performance.now(), attempts: 0, avoid: null, lastError: null, resolve, reject });
        dispatch();
      });
    },
    async useModel(m, opts = {}) {
      if (model?.digest !== m.digest || model.id !== m.id) {
        // rows in the queue or in flight were asked of the current model: let them finish first
        while (queue.length > 0 || workers.list.some((w) => w.busy > 0)) await new Promise<void>((r) => idle.push(r));
        model = m;
        ensureModel();
      }
      await this.ready({ timeoutMs: opts.timeoutMs ?? 600_000 });
    },
    metrics: () =>
      counters.snapshot(workers.list.map((w) => ({ address: w.address, state: w.status, cores: w.info?.cores ?? 0, ...w.stats, busyMs: Math.round(w.stats.busyMs) }))),
    latencies: (from, to) => counters.latencies(from, to),
    queued: () => queue.length,
    async close() {
      closed = true;
      if (wake) clearTimeout(wake);
      for (const r of queue.splice(0)) fail(r, new PoolRequestError("the pool was closed before the request ran", { attempts: r.attempts }));
      workers.close();
    },
  };
}
