// An evaluator on an accelerator pool scores what a local evaluator scores (issue 11): the
// same greedy answers, exact match and masked cross-entropy, overall and per domain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type RunSpec, loadLane } from "../../actors/cast/mod.js";
import { scoreViaPool } from "../../actors/evaluator/pool-score.js";
import { scoreModel } from "../../actors/evaluator/score.js";
import { createPool, startPoolWorker } from "../../hosts/pools/mod.js";
import { testCheckpoint } from "../hosts/fixtures/pool.js";

const CONFIG = { vocabSize: 256, blockSize: 48, nEmbd: 32, nHead: 4, nLayer: 2 };

test("evaluator on a pool - the same answers, exact match and losses as the local evaluator", async () => {
  using ck = await testCheckpoint(CONFIG, 21);
  const spec = {
    seed: 1,
    model: { block: CONFIG.blockSize },
    lanes: { held: { kind: "prompt_pack", seed: 7, domains: ["arithmetic", "copying"], difficulty: ["easy"], count: null, split: "heldout", options: { heldOutPerCell: 8 } } },
  } as unknown as RunSpec;
  const items = (await loadLane(spec, "held")).items;
  assert.equal(items.length, 16);
  const buckets = [{ batch: 8, seqLen: 16 }, { batch: 8, seqLen: 32 }, { batch: 4, seqLen: 48 }];
  const workers = await Promise.all([0, 1].map(() => startPoolWorker({ buckets, cores: 2, model: { path: ck.path } })));
  const pool = createPool({ workers: workers.map((w) => w.address) });
  try {
    await Promise.all(workers.map((w) => w.ready()));
    await pool.ready({ workers: 2 });
    const local = scoreModel(ck.model, items);
    const pooled = await scoreViaPool(pool, items, CONFIG.blockSize);
    assert.equal(pooled.n, local.n);
    assert.equal(pooled.exactMatch, local.exactMatch);
    assert.deepEqual(pooled.examples, local.examples, "the same greedy answers");
    assert.ok(Math.abs(pooled.loss - local.loss) <= 1e-4, `loss ${pooled.loss} vs ${local.loss}`);
    for (const [d, s] of Object.entries(local.byDomain)) {
      assert.equal(pooled.byDomain[d]!.exactMatch, s.exactMatch);
      assert.ok(Math.abs(pooled.byDomain[d]!.loss - s.loss) <= 1e-4, `${d}: ${pooled.byDomain[d]!.loss} vs ${s.loss}`);
    }
    const m = pool.metrics();
    assert.equal(m.failed, 0);
    assert.ok(Object.keys(m.byBucket).length >= 2, `greedy rows of growing length ran in several buckets: ${JSON.stringify(m.byBucket)}`);
  } finally {
    await pool.close();
    await Promise.all(workers.map((w) => w.close()));
  }
});
