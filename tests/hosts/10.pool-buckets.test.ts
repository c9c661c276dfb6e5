// Static-shape buckets and the two packing policies (issue 11): the rules, and that each
// can be seen failing the other way (a wrong bucket, a mixed group, a premature send).
import { test } from "node:test";
import assert from "node:assert/strict";
import { isPoolConfigError } from "../../hosts/mod.js";
import { bucketName, parseBuckets, pickRows, planExecutions, seqBucketOf, smallestFitting } from "../../hosts/pools/mod.js";

const B = parseBuckets("1x16,4x16,8x32,4x64");

test("pool buckets - parse, sort by slots, and refuse bad lists with the bad entry named", () => {
  assert.deepEqual(B.map(bucketName), ["1x16", "4x16", "8x32", "4x64"]);
  assert.throws(() => parseBuckets("4x16,4x16"), (e) => isPoolConfigError(e) && /4x16 is listed twice/.test(e.message));
  assert.throws(() => parseBuckets("4by16"), (e) => isPoolConfigError(e) && /"4by16" is not BATCHxSEQ_LEN/.test(e.message));
  assert.throws(() => parseBuckets("0x16"), (e) => isPoolConfigError(e) && /positive integers/.test(e.message));
  assert.throws(() => parseBuckets(""), (e) => isPoolConfigError(e) && /no buckets/.test(e.message));
});

test("pool buckets - the smallest bucket that fits: fewest slots, then the shorter seq_len", () => {
  assert.equal(bucketName(smallestFitting(B, 1, 10)!), "1x16");
  assert.equal(bucketName(smallestFitting(B, 2, 10)!), "4x16");
  assert.equal(bucketName(smallestFitting(B, 5, 10)!), "8x32"); // 5 rows: no 16-bucket holds them
  assert.equal(bucketName(smallestFitting(B, 1, 17)!), "8x32"); // 256 slots either way: the shorter seq_len
  assert.equal(bucketName(smallestFitting(B, 1, 33)!), "4x64");
  assert.equal(smallestFitting(B, 1, 65), null);
  assert.equal(smallestFitting(B, 9, 16), null);
});

test("pool buckets - a request beyond the largest batch runs as consecutive executions, each in its own bucket", () => {
  const plans = planExecutions(B, [30, 30, 3, 3, 3, 3, 3, 3, 3, 3, 5])!;
  assert.deepEqual(plans.map((p) => [p.start, p.rows, bucketName(p.bucket), p.realTokens]), [[0, 8, "8x32", 78], [8, 3, "4x16", 11]]);
  assert.equal(planExecutions(B, [65]), null);
});

test("pool packing - bucketed groups rows by seq_len bucket and waits for a full batch or the wait limit", () => {
  const now = 1000;
  const rows = [3, 40, 5, 60, 7, 9].map((length, i) => ({ length, key: "k", queuedAt: now - 10 + i })); // row 0 is the oldest
  // 4 rows of the 16 bucket fill 4x16 (the largest batch at seq 16): out at once, in queue order
  let r = pickRows("bucketed", rows, B, now, 50);
  assert.deepEqual(r.pick, { rows: [0, 2, 4, 5], seqLen: 16 });
  // only two short rows: nobody is due yet, so it waits until the oldest has waited 50 ms
  r = pickRows("bucketed", rows.slice(0, 3), B, now, 50);
  assert.equal(r.pick, null);
  assert.equal(r.wakeAt, now + 40);
  // after the wait the oldest group goes: as many rows as a compiled batch holds exactly
  // (two rows, batches 1 and 4 at seq 16: one now in 1x16, the other next, rather than 4x16 half empty)
  r = pickRows("bucketed", rows.slice(0, 3), B, now + 40, 50);
  assert.deepEqual(r.pick, { rows: [0], seqLen: 16 });
  const three = [3, 4, 5].map((length, i) => ({ length, key: "k", queuedAt: now - 60 + i }));
  assert.deepEqual(pickRows("bucketed", three, B, now, 50).pick, { rows: [0], seqLen: 16 }, "3 rows: 1x16 exactly, not 4x16");
  const lone = parseBuckets("4x16,8x32");
  assert.deepEqual(pickRows("bucketed", three, lone, now, 50).pick, { rows: [0, 1, 2], seqLen: 16 }, "no batch fills exactly: all of them, padded");
  // different outputs never share a request
  r = pickRows("bucketed", [{ length: 3, key: "a", queuedAt: 0 }, { length: 3, key: "b", queuedAt: 0 }, { length: 3, key: "a", queuedAt: 0 }, { length: 3, key: "a", queuedAt: 0 }, { length: 3, key: "a", queuedAt: 0 }], B, 0, 50);
  assert.deepEqual(r.pick, { rows: [0, 2, 3, 4], seqLen: 16 });
});

test("pool packing - naive takes rows first-fit in arrival order whatever their lengths", () => {
  const rows = [3, 40, 5, 60, 7, 9, 2, 2, 2, 2].map((length, i) => ({ length, key: "k", queuedAt: i }));
  const r = pickRows("naive", rows, B, 0, 50);
  assert.deepEqual(r.pick, { rows: [0, 1, 2, 3, 4, 5, 6, 7], seqLen: 60 }); // 8 = the largest batch; padded to the 60-token row
  assert.equal(seqBucketOf(B, 60), 64);
  assert.equal(seqBucketOf(B, 70), 0);
});
