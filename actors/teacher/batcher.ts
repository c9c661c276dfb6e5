// Concurrent forward requests for the same checkpoint, layers and shape wait a moment and go
// through the model together: one forward pass, each request gets its own rows back. A
// request that arrives while a pass runs joins the next one.
import type { ForwardRequest, ForwardResult } from "./forward.js";

export interface Batcher<K, R> {
  submit(key: string, group: K, req: ForwardRequest): Promise<R>;
}

interface Pending<R> {
  readonly req: ForwardRequest;
  resolve(v: R): void;
  reject(e: unknown): void;
}

export interface BatcherOptions<K> {
  /** How long the first request of a batch waits for company (ms). */
  readonly windowMs: number;
  /** Most rows in one pass. */
  readonly maxRows: number;
  /** Runs one pass; results in request order. */
  run(group: K, reqs: readonly ForwardRequest[]): Promise<ForwardResult[]>;
}

export function createBatcher<K>(o: BatcherOptions<K>): Batcher<K, ForwardResult & { batchedWith: number }> {
  type R = ForwardResult & { batchedWith: number };
  const queues = new Map<string, { group: K; items: Pending<R>[]; timer: NodeJS.Timeout | null }>();
  let chain: Promise<void> = Promise.resolve(); // one pass at a time: the kernels use every thread

  const flush = (key: string) => {
    const q = queues.get(key);
    if (!q) return;
    q.timer = null;
    let rows = 0;
    const take: Pending<R>[] = [];
    while (q.items.length > 0 && (take.length === 0 || rows + q.items[0]!.req.B <= o.maxRows)) {
      const p = q.items.shift()!;
      rows += p.req.B;
      take.push(p);
    }
    if (q.items.length === 0) queues.delete(key);
    else q.timer = setTimeout(() => flush(key), o.windowMs);
    chain = chain.then(async () => {
      try {
        const out = await o.run(q.group, take.map((p) => p.req));
        take.forEach((p, i) => p.resolve({ ...out[i]!, batchedWith: take.length }));
      } catch (err) {
        for (const p of take) p.reject(err);
      }
    });
  };

  return {
    submit(key, group, req) {
      return new Promise<R>((resolve, reject) => {
        let q = queues.get(key);
        if (!q) queues.set(key, (q = { group, items: [], timer: null }));
        q.items.push({ req, resolve, reject });
        q.timer ??= setTimeout(() => flush(key), o.windowMs);
      });
    },
  };
}
