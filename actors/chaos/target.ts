// The receiver of `troupe chaos fuzz`: counts the samples it handles and sums their `n`, so
// the fuzzer can check that exactly the valid messages were handled. Everything else the
// fuzzer sends must be refused by the runtime before it gets here, counted by error code.
import { defineMessage, t } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";

/** The largest message the target accepts; "oversize" fuzz messages exceed it. */
export const FUZZ_MAX_BYTES = 64 * 1024;

export const FuzzSample = defineMessage(
  "fuzz.sample",
  t.object({ n: t.int({ min: 0 }), x: t.tensor({ dtypes: ["f32"], rank: 1 }), tag: t.string({ maxLength: 32 }) }),
);
export const FuzzReport = defineMessage("fuzz.report", t.object({}), t.object({ handled: t.int(), sumN: t.number() }));

let handled = 0;
let sumN = 0;

export default defineActor({
  role: "fuzz-target",
  maxMessageBytes: FUZZ_MAX_BYTES,
  handlers: [
    on(FuzzSample, (b) => {
      handled++;
      sumN += b.n;
    }),
    on(FuzzReport, () => ({ handled, sumN })),
  ],
});
