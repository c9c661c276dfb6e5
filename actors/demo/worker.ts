// Takes demo jobs from the durable queue and hands each result to a collector. If no collector
// answers, the job fails and the queue retries it later: nothing is lost in between.
import type { WorkerHandle } from "../../hosts/mod.js";
import { defineActor } from "../runtime/mod.js";
import { DemoJob, DemoResult, demoSumSq } from "./messages.js";

let worker: WorkerHandle | undefined;

export default defineActor({
  role: "demo-worker",
  handlers: [],
  async onStart(ctx) {
    const q = await ctx.workQueue(DemoJob, { ackWaitMs: 5000, backoffMs: [100, 500] });
    worker = await q.process(
      async (job) => {
        const sumsq = demoSumSq(job.body.x);
        await ctx.choose("demo-collector", DemoResult, { job: job.id, n: job.body.n, sumsq, by: ctx.id }, { timeoutMs: 2000 });
      },
      { concurrency: 2, signal: ctx.signal },
    );
  },
  async onStop() {
    await worker?.stop();
  },
});
