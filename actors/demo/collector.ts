// Verifies every demo result against its own computation of the same job; answers status calls.
import { defineActor, on } from "../runtime/mod.js";
import { DemoExpect, DemoResult, DemoStatus, demoInput, demoSumSq } from "./messages.js";

const results = new Map<string, number>();
const byWorker: Record<string, number> = {};
let expected: number | undefined;
let duplicates = 0;
let wrong = 0;

export default defineActor({
  role: "demo-collector",
  handlers: [
    on(DemoExpect, (b) => {
      expected = b.jobs;
      return { ok: true };
    }),
    on(DemoResult, (b) => {
      if (b.job !== `demo-${b.n}` || b.sumsq !== demoSumSq(demoInput(b.n))) {
        wrong++;
        return { accepted: false };
      }
      if (results.has(b.job)) duplicates++;
      else {
        results.set(b.job, b.sumsq);
        byWorker[b.by] = (byWorker[b.by] ?? 0) + 1;
      }
      return { accepted: true };
    }),
    on(DemoStatus, () => ({ expected, verified: results.size, duplicates, wrong, byWorker: { ...byWorker } })),
  ],
});
