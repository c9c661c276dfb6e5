// The smallest honest end-to-end scenario: a producer submits jobs to a durable work queue,
// two workers compute them, a collector verifies every result against its own computation.
import { type WireTensor, defineMessage, t, typedView, wireTensor } from "../../protocol/mod.js";

export const DemoJob = defineMessage("demo.square", t.object({ n: t.int({ min: 0 }), x: t.tensor({ dtypes: ["f32"], shape: [16] }) }));
export const DemoResult = defineMessage(
  "demo.result",
  t.object({ job: t.string(), n: t.int({ min: 0 }), sumsq: t.number(), by: t.string() }),
  t.object({ accepted: t.boolean() }),
);
export const DemoExpect = defineMessage("demo.expect", t.object({ jobs: t.int({ min: 0 }) }), t.object({ ok: t.boolean() }));
export const DemoStatus = defineMessage(
  "demo.status",
  t.object({}),
  t.object({
    expected: t.optional(t.int()),
    verified: t.int(),
    duplicates: t.int(),
    wrong: t.int(),
    byWorker: t.record(t.int()),
  }),
);

export function demoInput(n: number): WireTensor {
  const x = new Float32Array(16);
  for (let i = 0; i < 16; i++) x[i] = (n % 7) - i / 4;
  return wireTensor("f32", [16], x);
}

export function demoSumSq(x: WireTensor): number {
  let s = 0;
  for (const v of typedView(x as WireTensor & { dtype: "f32" })) s += v * v;
  return s;
}
