// The worker's cores: one worker thread each (core-thread.ts), one request at a time each.
// Requests wait in one FIFO queue for the next free core and keep it until all of their
// executions have run — a process owns its cores, and a core is never shared by two requests.
import { Worker } from "node:worker_threads";
import type { Bucket } from "../proto.js";
import type { CoreReply, CoreRequest, CoreRun, ModelShape } from "./core-messages.js";

const THREAD = new URL("./core-thread.js", import.meta.url);

type Done = Extract<CoreReply, { type: "done" }>;

interface Core {
  readonly index: number;
  readonly thread: Worker;
  busy: boolean;
  pending: { resolve(r: CoreReply): void; reject(e: Error): void } | null;
}

/** A core held by one request until release(). */
export interface HeldCore {
  readonly index: number;
  run(r: Omit<CoreRun, "type" | "id">): Promise<Done>;
  release(): void;
}

export interface Cores {
  readonly count: number;
  busy(): number;
  /** Loads the model on every core; resolves with its shape. */
  load(path: string): Promise<ModelShape>;
  /** Builds and runs every bucket once on every core. */
  compile(buckets: readonly Bucket[]): Promise<void>;
  /** Waits for a free core (FIFO). Rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<HeldCore>;
  /** Requests waiting for a core. */
  waiting(): number;
  close(): Promise<void>;
}

export function startCores(count: number, onFatal: (err: Error) => void): Cores {
  let nextId = 0;
  let closing = false;
  const cores: Core[] = Array.from({ length: count }, (_, index) => {
    const thread = new Worker(THREAD);
    const core: Core = { index, thread, busy: false, pending: null };
    thread.on("message", (reply: CoreReply) => {
      const p = core.pending;
      core.pending = null;
      if (reply.type === "error") p?.reject(new Error(reply.message));
      else p?.resolve(reply);
    });
    const die = (why: string) => {
      core.pending?.reject(new Error(why));
      core.pending = null;
      if (!closing) onFatal(new Error(`core ${index}: ${why}`));
    };
    thread.on("error", (err) => die(`thread failed: ${err.message}`));
    thread.on("exit", (code) => die(`thread exited with code ${code}`));
    return core;
  });
  const queue: { resolve(c: HeldCore): void; reject(e: unknown): void; signal?: AbortSignal }[] = [];

  const send = (core: Core, msg: CoreRequest): Promise<CoreReply> =>
    new Promise((resolve, reject) => {
      if (core.pending) return reject(new Error(`core ${core.index} is already running something`));
      core.pending = { resolve, reject };
      core.thread.postMessage(msg);
    });

  const hold = (core: Core): HeldCore => {
    core.busy = true;
    let released = false;
    return {
      index: core.index,
      run: async (r) => (await send(core, { ...r, type: "run", id: nextId++ })) as Done,
      release() {
        if (released) return;
        released = true;
        core.busy = false;
        dispatch();
      },
    };
  };

  const dispatch = () => {
    for (;;) {
      const free = cores.find((c) => !c.busy);
      const next = queue.shift();
      if (!next) return;
      if (!free) {
        queue.unshift(next);
        return;
      }
      next.resolve(hold(free));
    }
  };

  return {
    count,
    busy: () => cores.filter((c) => c.busy).length,
    waiting: () => queue.length,
    async load(path) {
      const replies = await Promise.all(cores.map((c) => send(c, { type: "load", path })));
      const first = replies[0] as Extract<CoreReply, { type: "loaded" }>;
      return first.shape;
    },
    async compile(buckets) {
      await Promise.all(cores.map((c) => send(c, { type: "compile", buckets })));
    },
    acquire(signal) {
      return new Promise<HeldCore>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const entry = { resolve, reject, signal };
        queue.push(entry);
        signal?.addEventListener("abort", () => {
          const i = queue.indexOf(entry);
          if (i >= 0) {
            queue.splice(i, 1);
            reject(signal.reason);
          }
        }, { once: true });
        dispatch();
      });
    },
    async close() {
      closing = true;
      for (const q of queue.splice(0)) q.reject(new Error("the worker is shutting down"));
      await Promise.all(cores.map((c) => c.thread.terminate()));
    },
  };
}
