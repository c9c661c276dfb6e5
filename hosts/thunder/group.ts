// A data-parallel group as the main thread sees it: open it (every rank with the same group
// name, generation and world), then allReduce Float32Arrays it allocated. The ring runs in a
// worker thread (worker.ts) so the links keep their heartbeats and keep moving bytes while this
// thread computes; endpoints are exchanged through the run's NATS KV registry from here.
//
//   const g = await openThunderGroup({ nc, run, group: "stage1-a0", rank, world, address })
//   const buf = g.alloc(n); …; await g.allReduce(buf)        // sum in place, identical bits
//   g.failed.then((e) => …)                                 // a lost rank, within the bound
//
// A lost rank fails the collective in flight and every later one with a GroupError naming it
// (`lost`), and `failed` resolves even when no collective is in flight.
import { Worker } from "node:worker_threads";
import type { NatsConnection } from "@nats-io/transport-node";
import { GroupError } from "../errors.js";
import { openEndpointRegistry } from "../links/mod.js";
import type { Collective } from "./gradients.js";
import type { Compression, RingStats } from "./ring.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker.js";
import { type WireError, fromWire, toWire } from "./wire-errors.js";

export interface ThunderGroupOptions {
  readonly nc: NatsConnection;
  readonly run: string;
  /** the group's name, the same on every rank (e.g. "<stage>-<attempt>") */
  readonly group: string;
  /** bump when the group re-forms without a lost rank (default 1) */
  readonly generation?: number;
  readonly rank: number;
  readonly world: number;
  /** this host's data address: links listen and dial from here (default 127.0.0.1) */
  readonly address?: string;
  /** the troupe host name, recorded with the endpoint */
  readonly hostName?: string;
  /** link heartbeat interval (default 250 ms) */
  readonly heartbeatMs?: number;
  /** a rank silent this long is lost (default 3000 ms) */
  readonly deadAfterMs?: number;
  /** ring segment size in f32 bytes (default 1 MiB) */
  readonly segmentBytes?: number;
  /** forming the group gives up after this long (default 60 s) */
  readonly timeoutMs?: number;
}

export interface ThunderGroup extends Collective {
  readonly group: string;
  readonly generation: number;
  /** the error that broke the group, or null */
  readonly error: GroupError | null;
  /** resolves (never rejects) once the group breaks */
  readonly failed: Promise<GroupError>;
  /** counters of the ring (null for a group of one) */
  stats(): Promise<RingStats | null>;
  close(reason?: string): Promise<void>;
}

const WORKER = new URL("./worker.js", import.meta.url);

function sharedF32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(4, n * 4)), 0, n);
}

/** A group of one: nothing to exchange, nothing to fail. */
function single(group: string, generation: number): ThunderGroup {
  return {
    group, generation, rank: 0, world: 1, error: null, failed: new Promise<GroupError>(() => undefined),
    alloc: sharedF32, allReduce: async () => undefined, stats: async () => null, close: async () => undefined,
  };
}

export async function openThunderGroup(o: ThunderGroupOptions): Promise<ThunderGroup> {
  const generation = o.generation ?? 1;
  if (!Number.isInteger(o.world) || o.world < 1) throw new GroupError(`world must be a positive integer, got ${o.world}`);
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.world) throw new GroupError(`rank must be in [0, ${o.world - 1}], got ${o.rank}`);
  if (o.world === 1) return single(o.group, generation);
  const registry = await openEndpointRegistry(o.nc, o.run);
  const init: WorkerInit = {
    run: o.run, group: o.group, generation, rank: o.rank, world: o.world,
    address: o.address ?? "127.0.0.1", hostName: o.hostName ?? "",
    heartbeatMs: o.heartbeatMs ?? 250, deadAfterMs: o.deadAfterMs ?? 3000,
    segmentBytes: o.segmentBytes ?? 1 << 20, timeoutMs: o.timeoutMs ?? 60_000,
  };
  const worker = new Worker(WORKER, { workerData: init });
  worker.unref();
  const post = (m: ToWorker) => worker.postMessage(m);
  let error: GroupError | null = null;
  let resolveFailed!: (e: GroupError) => void;
  const failed = new Promise<GroupError>((r) => (resolveFailed = r));
  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  let resolveClosed!: () => void;
  const closedByWorker = new Promise<void>((r) => (resolveClosed = r));
  let nextId = 0;
  const pending = new Map<number, { resolve(v?: unknown): void; reject(e: Error): void }>();
  // stats are a read, not a collective: a broken group still answers them while its thread lives
  // (a neighbour that finished first and closed must not turn "how did it go" into an error)
  const statsPending = new Map<number, { resolve(v?: unknown): void; reject(e: Error): void }>();
  let gone: GroupError | null = null;
  const workerGone = (e: GroupError) => {
    gone ??= e;
    for (const p of statsPending.values()) p.reject(e);
    statsPending.clear();
    breakWith(e);
  };
  const breakWith = (e: GroupError) => {
    if (error) return;
    error = e;
    resolveFailed(e);
    rejectReady(e);
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const reply = (id: number, work: () => Promise<unknown>) => {
    work().then(
      (value) => post({ op: "reply", id, value }),
      (err: unknown) => post({ op: "reply", id, error: toWire(err) as WireError }),
    );
  };
  worker.on("message", (m: FromWorker) => {
    switch (m.op) {
      case "publish":
        return reply(m.id, () => registry.publish(m.endpoint));
      case "lookup":
        return reply(m.id, () => registry.lookup(m.name, { timeoutMs: m.timeoutMs, accept: (e) => e.meta.generation === m.generation && e.meta.world === m.world }));
      case "ready":
        return resolveReady();
      case "done": {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(fromWire(m.error));
        else p?.resolve();
        return;
      }
      case "stats": {
        const p = statsPending.get(m.id);
        statsPending.delete(m.id);
        return p?.resolve(m.value);
      }
      case "failed":
        return breakWith(fromWire(m.error));
      case "closed":
        return resolveClosed();
    }
  });
  worker.on("error", (err) => workerGone(new GroupError(`the thunder worker of rank ${o.rank} crashed: ${err.message}`, [], { cause: err })));
  worker.on("exit", (code) => workerGone(new GroupError(`the thunder worker of rank ${o.rank} exited (code ${code})`)));
  try {
    await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const call = <T>(m: { op: "allreduce"; buf: Float32Array; compression: Compression }): Promise<T> => {
    if (error) return Promise.reject(error);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v?: unknown) => void, reject });
      post({ ...m, id } as ToWorker);
    });
  };
  return {
    group: o.group, generation, rank: o.rank, world: o.world,
    get error() {
      return error;
    },
    failed,
    alloc: sharedF32,
    allReduce(buf, compression = "none") {
      if (!(buf.buffer instanceof SharedArrayBuffer)) {
        return Promise.reject(new GroupError("allReduce needs a buffer from group.alloc() (shared with the ring's thread)"));
      }
      return call<void>({ op: "allreduce", buf, compression });
    },
    stats() {
      if (gone) return Promise.reject(gone);
      const id = nextId++;
      return new Promise<RingStats | null>((resolve, reject) => {
        statsPending.set(id, { resolve: resolve as (v?: unknown) => void, reject });
        post({ op: "stats", id });
      });
    },
    async close(reason = "closed by its owner") {
      const open = error === null;
      breakWith(new GroupError(`the group was closed (${reason})`));
      if (open) {
        post({ op: "close", reason });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closedByWorker, new Promise<void>((r) => (timer = setTimeout(r, 3000)))]);
        clearTimeout(timer);
      }
      await worker.terminate();
    },
  };
}
