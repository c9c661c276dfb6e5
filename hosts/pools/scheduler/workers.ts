// The scheduler's view of its workers. Each is described once it answers (buckets, cores,
// model), then followed through a Watch stream: its state changes arrive as they happen, and
// a worker that dies (kill -9, a lost host) ends the stream at once, which takes it out of
// rotation. A worker out of rotation is probed with Health every `healthIntervalMs`; when it
// answers again it is described and watched anew and comes back into rotation.
import type { Logger } from "../../logger.js";
import { type WorkerClient, workerClient } from "../client.js";
import { bucketName } from "../buckets.js";
import type { Bucket, DescribeReply, HealthReply } from "../proto.js";

export type WorkerStatus = "connecting" | "starting" | "compiling" | "ready" | "draining" | "down";

export interface TrackedWorker {
  readonly address: string;
  readonly client: WorkerClient;
  status: WorkerStatus;
  info: DescribeReply | null;
  /** digest of the model it serves now ("" = none) */
  digest: string;
  /** our Forward calls in flight to it (at most one per core) */
  busy: number;
  /** a Load we sent is running */
  loading: boolean;
  /** why it is not usable, when it is not */
  problem: string | null;
  readonly stats: { calls: number; failedCalls: number; rows: number; executions: number; busyMs: number; outOfRotation: number; returned: number };
}

export interface WorkerSet {
  readonly list: readonly TrackedWorker[];
  /** Takes a worker out of rotation (a failed call said it is gone); probing brings it back. */
  markDown(w: TrackedWorker, why: string): void;
  markDraining(w: TrackedWorker): void;
  close(): void;
}

const STATUS: Record<HealthReply["state"], WorkerStatus> = {
  STATE_UNSPECIFIED: "connecting",
  STARTING: "starting",
  COMPILING: "compiling",
  SERVING: "ready",
  DRAINING: "draining",
};

export function trackWorkers(o: {
  addresses: readonly string[];
  healthIntervalMs: number;
  /** buckets every worker must have compiled (the scenario's); null = take the first worker's */
  buckets: readonly Bucket[] | null;
  onChange(): void;
  log: Logger;
}): WorkerSet & { buckets(): Bucket[] | null } {
  let closed = false;
  let buckets: Bucket[] | null = o.buckets ? [...o.buckets] : null;
  const watches = new Map<TrackedWorker, { cancel(): void }>();
  const probes = new Map<TrackedWorker, NodeJS.Timeout>();
  const list: TrackedWorker[] = o.addresses.map((address) => ({
    address,
    client: workerClient(address),
    status: "connecting",
    info: null,
    digest: "",
    busy: 0,
    loading: false,
    problem: null,
    stats: { calls: 0, failedCalls: 0, rows: 0, executions: 0, busyMs: 0, outOfRotation: 0, returned: 0 },
  }));

  const sameBuckets = (a: readonly Bucket[], b: readonly Bucket[]) => a.map(bucketName).sort().join() === b.map(bucketName).sort().join();

  const out = new Set<TrackedWorker>();
  const setStatus = (w: TrackedWorker, s: WorkerStatus) => {
    if (w.status === s) return;
    const was = w.status;
    w.status = s;
    if ((s === "down" || s === "draining") && !out.has(w) && was !== "connecting") {
      out.add(w);
      w.stats.outOfRotation++;
    }
    if (s === "ready" && out.delete(w)) w.stats.returned++;
    o.log.info({ worker: w.address, from: was, to: s }, "pool worker");
    o.onChange();
  };

  const probe = (w: TrackedWorker) => {
    if (closed || probes.has(w)) return;
    probes.set(w, setTimeout(() => {
      probes.delete(w);
      if (closed) return;
      w.client.health(Math.max(1000, o.healthIntervalMs)).then(() => connect(w), () => probe(w));
    }, o.healthIntervalMs));
  };

  const down = (w: TrackedWorker, why: string) => {
    watches.get(w)?.cancel();
    watches.delete(w);
    w.problem = why;
    setStatus(w, "down");
    probe(w);
  };

  function connect(w: TrackedWorker): void {
    if (closed) return;
    w.client.describe().then(
      (info) => {
        if (closed) return;
        if (info.protocolVersion !== 1) return down(w, `speaks pool protocol ${info.protocolVersion}, this troupe speaks 1`);
        buckets ??= [...info.buckets];
        if (!sameBuckets(info.buckets, buckets)) {
          // a worker compiled for other shapes would be given rows it cannot run
          w.problem = `compiled buckets ${info.buckets.map(bucketName).join(",")} differ from the pool's ${buckets.map(bucketName).join(",")}`;
          o.log.error({ worker: w.address, problem: w.problem }, "pool worker not used");
          return down(w, w.problem);
        }
        w.info = info;
        w.problem = null;
        watches.get(w)?.cancel();
        const watch = w.client.watch(
          (h) => {
            w.digest = h.modelDigest;
            setStatus(w, STATUS[h.state] ?? "connecting");
            o.onChange();
          },
          (err) => {
            if (!closed && watches.get(w) === watch) down(w, err ? err.message : "the worker ended its health stream");
          },
        );
        watches.set(w, watch);
      },
      (err: Error) => down(w, err.message),
    );
  }

  for (const w of list) connect(w);

  return {
    list,
    buckets: () => buckets,
    markDown: (w, why) => {
      if (w.status !== "down") down(w, why);
    },
    markDraining: (w) => setStatus(w, "draining"),
    close() {
      closed = true;
      for (const t of probes.values()) clearTimeout(t);
      for (const x of watches.values()) x.cancel();
      for (const w of list) w.client.close();
    },
  };
}
