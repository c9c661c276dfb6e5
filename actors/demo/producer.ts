// Submits the demo's jobs to the durable queue, tells the collector how many to expect, and
// stops (a transient actor: its normal end is not restarted).
import { t } from "../../protocol/mod.js";
import { isCallTimeoutError, isNoResponderError } from "../errors.js";
import { defineActor } from "../runtime/mod.js";
import { DemoExpect, DemoJob, demoInput } from "./messages.js";

export default defineActor({
  role: "demo-producer",
  config: t.object({ jobs: t.int({ min: 1, max: 1_000_000 }) }),
  handlers: [],
  async onStart(ctx) {
    const q = await ctx.workQueue(DemoJob, { ackWaitMs: 5000, backoffMs: [100, 500] });
    for (let n = 0; n < ctx.config.jobs; n++) await q.submit(`demo-${n}`, { n, x: demoInput(n) });
    // the collector may still be starting: retry until one of the group answers
    const end = Date.now() + 30_000;
    for (;;) {
      try {
        await ctx.choose("demo-collector", DemoExpect, { jobs: ctx.config.jobs }, { timeoutMs: 2000 });
        break;
      } catch (err) {
        if (!(isNoResponderError(err) || isCallTimeoutError(err)) || Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    ctx.log.info({ jobs: ctx.config.jobs }, "jobs submitted");
    ctx.stop("all jobs submitted");
  },
});
