// The thread a ThunderGroup runs its ring in (see group.ts). It owns the links: heartbeats go
// out and come in while the main thread is busy in forward/backward, and a bucket handed over
// during backward is reduced while backward goes on. Gradients are shared, not copied: the
// main thread posts Float32Array views of a SharedArrayBuffer. The endpoint registry stays in
// the main thread (it holds the NATS connection); this thread asks it by message.
import { parentPort, workerData } from "node:worker_threads";
import type { EndpointRegistry, LinkEndpoint, LookupOptions } from "../links/mod.js";
import { connectRing } from "./connect.js";
import { type Compression, type Ring, createRing } from "./ring.js";
import { type WireError, toWire } from "./wire-errors.js";

export interface WorkerInit {
  readonly run: string;
  readonly group: string;
  readonly generation: number;
  readonly rank: number;
  readonly world: number;
  readonly address: string;
  readonly hostName: string;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  readonly segmentBytes: number;
  readonly timeoutMs: number;
}

export type ToWorker =
  | { op: "allreduce"; id: number; buf: Float32Array; compression: Compression }
  | { op: "reply"; id: number; value?: unknown; error?: WireError }
  | { op: "stats"; id: number }
  | { op: "close"; reason: string };


export type FromWorker =
  | { op: "publish"; id: number; endpoint: Omit<LinkEndpoint, "at" | "pid"> }
  | { op: "lookup"; id: number; name: string; generation: number; world: number; timeoutMs: number }
  | { op: "ready" }
  | { op: "done"; id: number; error?: WireError }
  | { op: "stats"; id: number; value: unknown }
  | { op: "failed"; error: WireError }
  | { op: "closed" };

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);

let nextCall = 0;
const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
function ask<T>(m: { op: "publish"; endpoint: Omit<LinkEndpoint, "at" | "pid"> } | { op: "lookup"; name: string; generation: number; world: number; timeoutMs: number }): Promise<T> {
  const id = nextCall++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ ...m, id } as FromWorker);
  });
}

const registry: Pick<EndpointRegistry, "publish" | "lookup"> = {
  publish: (endpoint) => ask<LinkEndpoint>({ op: "publish", endpoint }),
  lookup: (name: string, o: LookupOptions = {}) => ask<LinkEndpoint>({ op: "lookup", name, generation: init.generation, world: init.world, timeoutMs: o.timeoutMs ?? init.timeoutMs }),
};

let ring: Ring | null = null;
const queue: Extract<ToWorker, { op: "allreduce" }>[] = [];
let running = false;

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length) {
    const m = queue.shift()!;
    try {
      await ring!.allReduce(m.buf, m.compression);
      post({ op: "done", id: m.id });
    } catch (err) {
      post({ op: "done", id: m.id, error: toWire(err) });
    }
  }
  running = false;
}

port.on("message", (m: ToWorker) => {
  if (m.op === "reply") {
    const c = calls.get(m.id);
    calls.delete(m.id);
    if (m.error) c?.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
    else c?.resolve(m.value);
  } else if (m.op === "allreduce") {
    queue.push(m);
    if (ring) void pump();
  } else if (m.op === "stats") {
    post({ op: "stats", id: m.id, value: ring ? { ...ring.stats } : null });
  } else if (m.op === "close") {
    // politely: what this rank sent still reaches its neighbours (an abrupt close could reset
    // the connection and drop it), then the thread may end
    void (ring ? ring.close(m.reason) : Promise.resolve()).then(() => {
      post({ op: "closed" });
      port.close();
    });
  }
});

try {
  const links = await connectRing({ ...init, registry });
  ring = createRing({ rank: init.rank, world: init.world, toRight: links.toRight, fromLeft: links.fromLeft, segmentBytes: init.segmentBytes });
  // a ring that breaks with no collective in flight still tells the main thread at once
  void ring.failed.then((e) => post({ op: "failed", error: toWire(e) }));
  post({ op: "ready" });
  void pump();
} catch (err) {
  post({ op: "failed", error: toWire(err) });
}
