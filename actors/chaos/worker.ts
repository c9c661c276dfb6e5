// A worker on the chaos job queue: for each job, spend `workMs` of CPU (the stand-in for real
// work), compute the sum of squares, publish the result deduplicated by job id, then ack.
// Killed at any point, it loses nothing: an unacked job comes back after ackWaitMs, and a
// result published twice is stored once.
//
// For `troupe chaos kill-actor` it also records every execution (start and done) in a stream
// without deduplication, so repeated work is counted rather than hidden, and it can be made
// to break the promises on purpose, to show the counters move:
//   dedup: false     results are published without a message id (the server stores repeats)
//   holdAckMs        a pause between publishing the result and acking the job (slow acks: a
//                    kill in that window makes the job run, and its result be sent, again)
//   poison           job numbers that fail permanently (dead-lettered, never completed)
//   stall            job numbers that never finish (the driver's bounded wait ends; lost)
import { jetstream } from "@nats-io/jetstream";
import { PermanentJobError, pause, publishOnce, type WorkerHandle } from "../../hosts/mod.js";
import { createStamper, t } from "../../protocol/mod.js";
import { defineActor } from "../runtime/mod.js";
import { ChaosExecution, ChaosJob, ChaosResult, executionsSubject, resultsSubject, sumOfSquares } from "./jobs.js";

const Config = t.object({
  ackWaitMs: t.int({ min: 100 }),
  workMs: t.number({ min: 0 }),
  concurrency: t.optional(t.int({ min: 1 })),
  maxAttempts: t.optional(t.int({ min: 1 })),
  /** Record every execution in the run's executions stream (it must exist). */
  executions: t.optional(t.boolean()),
  dedup: t.optional(t.boolean()),
  holdAckMs: t.optional(t.int({ min: 0 })),
  poison: t.optional(t.array(t.int({ min: 0 }))),
  stall: t.optional(t.array(t.int({ min: 0 }))),
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
    const { ackWaitMs, workMs, concurrency = 1, maxAttempts = 10, executions = false, dedup = true, holdAckMs = 0 } = ctx.config;
    const poison = new Set(ctx.config.poison ?? []);
    const stall = new Set(ctx.config.stall ?? []);
    const stamper = createStamper(ctx.run, ctx.address);
    const js = jetstream(ctx.nc);
    // a plain JetStream publish, no message id: the server stores every copy
    const publishEach = async (subject: string, data: Uint8Array) => void (await js.publish(subject, data, { timeout: 5000 }));
    const record = async (job: { id: string; body: { n: number }; attempt: number }, phase: "start" | "done") => {
      if (!executions) return;
      const body = { job: job.id, n: job.body.n, pid: process.pid, attempt: job.attempt, phase };
      await publishEach(executionsSubject(ctx.run), ctx.codec.encode(stamper.stamp(ChaosExecution.kind, body)));
    };
    const q = await ctx.workQueue(ChaosJob, { ackWaitMs, maxAttempts, backoffMs: [200, 500, 1000] });
    worker = await q.process(
      async (job) => {
        await record(job, "start");
        if (poison.has(job.body.n)) throw new PermanentJobError(`job ${job.id} is poison: this chaos run fails it on purpose`);
        if (stall.has(job.body.n)) await pause(2 ** 31 - 1, job.signal);
        spin(workMs);
        const result = { job: job.id, n: job.body.n, sumsq: sumOfSquares(job.body.x), pid: process.pid, attempt: job.attempt };
        const data = ctx.codec.encode(stamper.stamp(ChaosResult.kind, result));
        if (dedup) await publishOnce(ctx.nc, resultsSubject(ctx.run), data, { msgId: job.id, signal: ctx.signal });
        else await publishEach(resultsSubject(ctx.run), data);
        await record(job, "done");
        if (holdAckMs > 0) await pause(holdAckMs, job.signal);
      },
      { concurrency, signal: ctx.signal },
    );
  },
  async onStop() {
    await worker?.stop();
  },
});
