// A worker on the chaos job queue: for each job, spend `workMs` of CPU (the stand-in for real
// work), compute the sum of squares, publish the result deduplicated by job id, then ack.
// Killed at any point, it loses nothing: an unacked job comes back after ackWaitMs, and a
// result published twice is stored once.
import { publishOnce, type WorkerHandle } from "../../hosts/mod.js";
import { createStamper, t } from "../../protocol/mod.js";
import { defineActor } from "../runtime/mod.js";
import { ChaosJob, ChaosResult, resultsSubject, sumOfSquares } from "./jobs.js";

const Config = t.object({
  ackWaitMs: t.int({ min: 100 }),
  workMs: t.number({ min: 0 }),
  concurrency: t.optional(t.int({ min: 1 })),
  maxAttempts: t.optional(t.int({ min: 1 })),
});

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the job's CPU time
  }
}

let worker: WorkerHandle | undefined;

export default defineActor({
  role: "chaos-worker",
  config: Config,
  handlers: [],
  async onStart(ctx) {
    const { ackWaitMs, workMs, concurrency = 1, maxAttempts = 10 } = ctx.config;
    const stamper = createStamper(ctx.run, ctx.address);
    const q = await ctx.workQueue(ChaosJob, { ackWaitMs, maxAttempts, backoffMs: [200, 500, 1000] });
    worker = await q.process(
      async (job) => {
        spin(workMs);
        const result = { job: job.id, n: job.body.n, sumsq: sumOfSquares(job.body.x), pid: process.pid, attempt: job.attempt };
        await publishOnce(ctx.nc, resultsSubject(ctx.run), ctx.codec.encode(stamper.stamp(ChaosResult.kind, result)), {
          msgId: job.id,
          signal: ctx.signal,
        });
      },
      { concurrency, signal: ctx.signal },
    );
  },
  async onStop() {
    await worker?.stop();
  },
});
