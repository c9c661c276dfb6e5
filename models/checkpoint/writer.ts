// The main-thread side of the checkpoint writer thread: one lazily started worker per process,
// referenced only while jobs are in flight (an idle writer never keeps the process alive).
// The encoded buffers are transferred, not copied, when they own their memory.
import { Worker } from "node:worker_threads";
import type { WriteJob, WriteReply } from "./write-worker.js";

export type { WriteJob } from "./write-worker.js";

let worker: Worker | null = null;
let nextId = 0;
const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

function settle(id: number, fn: (w: { resolve: () => void; reject: (e: Error) => void }) => void): void {
  const w = waiting.get(id);
  if (!w) return;
  waiting.delete(id);
  if (waiting.size === 0) worker?.unref();
  fn(w);
}

function writer(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./write-worker.js", import.meta.url));
  w.on("message", (r: WriteReply) => settle(r.id, (p) => (r.ok ? p.resolve() : p.reject(Object.assign(new Error(r.error), r.code ? { code: r.code } : {})))));
  const failAll = (err: Error) => {
    worker = null;
    for (const id of [...waiting.keys()]) settle(id, (p) => p.reject(err));
  };
  w.on("error", failAll);
  w.on("exit", (code) => failAll(new Error(`the checkpoint writer thread exited (${code})`)));
  w.unref();
  worker = w;
  return w;
}

/** Runs a write job on the writer thread; resolves when the checkpoint is in place. */
export function writeOffThread(job: Omit<WriteJob, "id">): Promise<void> {
  const id = ++nextId;
  const w = writer();
  return new Promise<void>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.ref();
    const transfer = job.files.map(([, b]) => b.buffer).filter((buf, i) => {
      const b = job.files[i]![1];
      return buf instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === buf.byteLength;
    }) as ArrayBuffer[];
    w.postMessage({ ...job, id }, [...new Set(transfer)]);
  });
}
