// A teacher on an accelerator pool answers what a local teacher answers (issue 11 acceptance:
// logits within 1e-5 of the local teacher's for the same checkpoint, whatever bucket padding
// was applied) — and the lens, hidden states, stored f16 states and loss with them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { forwardMany } from "../../actors/teacher/forward.js";
import { forwardViaPool } from "../../actors/teacher/pool.js";
import { IGNORE_INDEX } from "../../kernels/mod.js";
import { createPool, startPoolWorker } from "../../hosts/pools/mod.js";
import { testCheckpoint } from "../hosts/fixtures/pool.js";

const CONFIG = { vocabSize: 256, blockSize: 64, nEmbd: 32, nHead: 4, nLayer: 3 };

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test("teacher on a pool - logits, lens, hidden states, stored states and loss equal the local teacher's, whatever the padding", async () => {
  using ck = await testCheckpoint(CONFIG, 11);
  // rows of T = 48 never fit a bucket exactly: every row is padded in time (48 → 64) and
  // batches of 1..3 rows in batch (to 4 or 8)
  const buckets = [{ batch: 4, seqLen: 64 }, { batch: 8, seqLen: 64 }, { batch: 2, seqLen: 16 }];
  const workers = await Promise.all([0, 1].map(() => startPoolWorker({ buckets, cores: 2, model: { path: ck.path } })));
  await Promise.all(workers.map((w) => w.ready()));
  const pool = createPool({ workers: workers.map((w) => w.address) });
  try {
    await pool.ready({ workers: 2 });
    const T = 48;
    const V = CONFIG.vocabSize;
    const layers = [1, 2];
    const req = (B: number, seed: number) => {
      const idx = Int32Array.from({ length: B * T }, (_, i) => (i * 17 + seed * 31) % V);
      const targets = Int32Array.from({ length: B * T }, (_, i) => (i % T < 10 ? IGNORE_INDEX : (i * 5 + seed) % V));
      return { idx, targets, B };
    };
    for (const group of [[req(1, 1)], [req(3, 2), req(2, 3)], [req(7, 4), req(1, 5)]]) {
      const want = { logits: true, hidden: true, lens: true, store: true };
      const local = forwardMany(ck.model, group, T, layers, want);
      const pooled = await forwardViaPool(pool, group, T, layers, want);
      assert.equal(pooled.length, local.length);
      pooled.forEach((p, k) => {
        const l = local[k]!;
        const d = maxAbs(p.logits!, l.logits!);
        assert.ok(d <= 1e-5, `request ${k} of ${group.length}: logits differ by ${d}`);
        assert.ok(maxAbs(p.hidden!, l.hidden!) <= 1e-5, "hidden states");
        assert.deepEqual(p.lens, l.lens, "logit-lens argmax");
        assert.ok(Math.abs(p.lossSum - l.lossSum) <= 1e-4 * Math.max(1, l.lossSum), `loss ${p.lossSum} vs ${l.lossSum}`);
        assert.equal(p.tokens, l.tokens);
        assert.equal(p.stored!.byteLength, l.stored!.byteLength);
      });
    }
    const m = pool.metrics();
    assert.ok(m.paddingRatio > 0, "the rows really were padded");
    assert.ok(Object.keys(m.byBucket).some((b) => b.endsWith("x64")));
    // and the comparison can fail: another checkpoint's logits are far off
    using other = await testCheckpoint(CONFIG, 12);
    const far = maxAbs(forwardMany(other.model, [req(1, 1)], T, layers, { logits: true, hidden: false, lens: false, store: false })[0]!.logits!, (await forwardViaPool(pool, [req(1, 1)], T, layers, { logits: true, hidden: false, lens: false, store: false }))[0]!.logits!);
    assert.ok(far > 1e-2, `a different checkpoint differs by only ${far}`);
  } finally {
    await pool.close();
    await Promise.all(workers.map((w) => w.close()));
  }
});
