import { test } from "node:test";
import assert from "node:assert/strict";
import { isCasConflictError, openRunState } from "../../hosts/mod.js";
import { isDecodeError, t } from "../../protocol/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const Snapshot = t.object({ stage: t.int({ min: 0 }), note: t.string() });
const env = natsForFile();

test("kv - compare-and-set writes only over the revision the writer read", async () => {
  const s = await openRunState(env.nc, { run: uniqueName("r"), bucket: "director", schema: Snapshot });
  assert.equal(await s.get("chart"), null);
  const r1 = await s.cas("chart", { stage: 0, note: "start" }, 0);
  await assert.rejects(s.cas("chart", { stage: 0, note: "again" }, 0), (e) => isCasConflictError(e) && /revision 0/.test(e.message));
  const r2 = await s.cas("chart", { stage: 1, note: "adapter" }, r1);
  await assert.rejects(s.cas("chart", { stage: 9, note: "stale" }, r1), isCasConflictError);
  assert.deepEqual(await s.get("chart"), { value: { stage: 1, note: "adapter" }, revision: r2 });
});

test("kv - concurrent updates all land (each retried on conflict)", async () => {
  const Counter = t.object({ n: t.int() });
  const run = uniqueName("r");
  const writers = await Promise.all([0, 1, 2, 3].map(() => openRunState(env.nc, { run, bucket: "count", schema: Counter })));
  await Promise.all(writers.flatMap((w) => Array.from({ length: 5 }, () => w.update("c", (p) => ({ n: (p?.n ?? 0) + 1 }), { maxRetries: 100 }))));
  assert.equal((await writers[0]!.get("c"))?.value.n, 20);
});

test("kv - values are validated on write and on read", async () => {
  const run = uniqueName("r");
  const loose = await openRunState<unknown>(env.nc, { run, bucket: "d" });
  await loose.put("chart", { stage: "not a number" });
  const strict = await openRunState(env.nc, { run, bucket: "d", schema: Snapshot });
  await assert.rejects(strict.get("chart"), (e) => isDecodeError(e) && e.code === "SCHEMA" && /stage/.test(e.message));
  await assert.rejects(strict.put("chart", { stage: -1, note: "" }), (e) => isDecodeError(e) && e.code === "SCHEMA");
});
