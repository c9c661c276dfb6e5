// chaos dp-equivalence in the rig (needs root): two namespaced hosts, one core each, a shaped
// 10 Gbit/s link, `troupe train --dp-world 2` vs one host on the combined batch. A small model
// here; `troupe chaos dp-equivalence --json` runs the benchmark GPT. guards #13
import { test } from "node:test";
import assert from "node:assert/strict";
import { runDpEquivalence } from "../../cli/commands/chaos-dp.js";
import { rigSkip } from "../harness/mod.js";

test("dp-equivalence - 2 namespaced hosts on a split batch equal 1 host on the combined batch after 20 steps", { skip: rigSkip() }, async () => {
  const r = await runDpEquivalence({ steps: 20, model: ["--block", "32", "--embd", "32", "--heads", "2", "--layers", "2"] });
  assert.equal(r.kind, "namespaces");
  assert.equal(r.link, "10gbit");
  assert.equal(r.rank_diff, 0, "both ranks hold the same bits");
  assert.ok(r.max_param_diff <= 1e-5, `max_param_diff ${r.max_param_diff}`);
  assert.ok(r.max_param_diff > 0 || r.reorder_floor === 0, "a float reordering shows (the comparison is not of a run with itself)");
  assert.equal(r.passed, true);
});
