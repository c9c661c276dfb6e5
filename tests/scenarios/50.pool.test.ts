// Scenario support for accelerator pools (issue 11): cast.teacher.pool / cast.evaluator.pool in
// the plan, local workers by count or listed workers by address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadScenario, parseScenario } from "../../scenarios/mod.js";
import { repoRoot } from "./paths.js";

test("scenario pools - quickstart-pool puts the teacher on 2 local workers; the rest of the plan is the quickstart's", () => {
  const pooled = loadScenario(join(repoRoot, "scenarios", "quickstart-pool.yaml"));
  const plain = loadScenario(join(repoRoot, "scenarios", "quickstart.yaml"));
  assert.deepEqual(pooled.cast.teacher.pool, {
    workers: null,
    spawn: 2,
    buckets: [{ batch: 1, seqLen: 48 }, { batch: 4, seqLen: 48 }, { batch: 8, seqLen: 48 }],
    cores: 2,
    compileMs: 2000,
    deadlineMs: 300_000,
    policy: "bucketed",
  });
  assert.equal(pooled.cast.evaluator.pool, undefined);
  assert.equal(plain.cast.teacher.pool, undefined, "a plan without pools is what it was before pools existed");
  assert.deepEqual(pooled.model, plain.model);
  assert.deepEqual(pooled.curriculum, plain.curriculum);
  assert.deepEqual(pooled.data, plain.data);
});

test("scenario pools - listed workers by address, buckets sorted by slots", () => {
  const text = readFileSync(join(repoRoot, "scenarios", "tiny.yaml"), "utf8").replace(
    "\nmodel:",
    "\ncast:\n  evaluator:\n    pool: { workers: [\"10.0.0.5:50051\", \"[::1]:7000\"], buckets: [8x32, 1x16, 4x16], policy: naive, deadline_s: 30 }\n\nmodel:",
  );
  const plan = parseScenario(text, "tiny-listed.yaml", { baseDir: join(repoRoot, "scenarios") });
  assert.deepEqual(plan.cast.evaluator.pool, {
    workers: ["10.0.0.5:50051", "[::1]:7000"],
    spawn: null,
    buckets: [{ batch: 1, seqLen: 16 }, { batch: 4, seqLen: 16 }, { batch: 8, seqLen: 32 }],
    cores: 2,
    compileMs: 0,
    deadlineMs: 30_000,
    policy: "naive",
  });
});
