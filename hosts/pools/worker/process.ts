// A pool worker as a process: `troupe pool worker …` and the processes spawn.ts starts both run
// this. It reports on stdout, one JSON object a line — {"event":"listening","address","port",
// "pid"} once bound (port 0: the OS picked it), {"event":"ready",…} when the model is compiled,
// {"event":"draining",…}, {"event":"exit",…} — and logs on stderr. SIGTERM is the spot notice:
// drain (stop taking work, finish what is held within the deadline), then exit 0. A second
// SIGTERM or SIGINT exits at once.
import { type ModelSource } from "./load.js";
import { type PoolWorkerOptions, startPoolWorker } from "./worker.js";
import type { Bucket, ObjectStoreSource } from "../proto.js";

/** Everything a worker process needs, as JSON (what spawn.ts passes on the command line). */
export interface WorkerProcessSpec {
  readonly buckets: readonly Bucket[];
  readonly cores?: number;
  readonly host?: string;
  readonly port?: number;
  readonly name?: string;
  readonly compileMs?: number;
  readonly maxInFlight?: number;
  readonly maxRows?: number;
  readonly drainMs?: number;
  readonly model?: { readonly id?: string; readonly digest?: string; readonly path?: string; readonly objectStore?: ObjectStoreSource };
}

export function modelSourceOf(m: WorkerProcessSpec["model"]): ModelSource | undefined {
  if (!m) return undefined;
  if (m.path) return { id: m.id, digest: m.digest, path: m.path };
  if (m.objectStore) return { id: m.id, digest: m.digest, objectStore: m.objectStore };
  return undefined;
}

const emit = (event: string, fields: Record<string, unknown>) => process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");

/** Runs a worker until it has drained (or failed); resolves with the exit code. */
export async function runWorkerProcess(spec: WorkerProcessSpec, extra: Pick<PoolWorkerOptions, "wrapService"> = {}): Promise<number> {
  const worker = await startPoolWorker({ ...spec, model: modelSourceOf(spec.model), ...extra });
  emit("listening", { address: worker.address, port: worker.port, pid: process.pid });
  // a worker whose model never loads closes with the error (reported as the exit event below)
  worker.ready().then(() => emit("ready", { address: worker.address, model: worker.describe().model }), () => undefined);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (sig === "SIGTERM" && signals === 1) {
      const r = worker.drain(undefined, "SIGTERM (spot interruption notice)");
      emit("draining", { address: worker.address, held: r.held, deadline_ms: r.deadlineMs });
    } else {
      void worker.close();
    }
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const err = await worker.closed;
  emit("exit", { address: worker.address, error: err?.message ?? null });
  return err ? 1 : 0;
}
