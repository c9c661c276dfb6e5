// Leases with epochs in KV: the newest holder wins at once, every earlier one is fenced out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isFencedError, openLease } from "../../hosts/mod.js";
import { deferred, natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

test("lease - acquiring takes the next epoch; the earlier holder's check and renew are fenced", async () => {
  const run = uniqueName("r");
  const a = await openLease(env.nc, { run, name: "director", holder: "a" });
  const b = await openLease(env.nc, { run, name: "director", holder: "b" });
  assert.equal(await a.current(), null);
  const ea = await a.acquire();
  assert.deepEqual([ea.epoch, ea.holder, ea.pid], [1, "a", process.pid]);
  assert.equal((await a.check(1)).holder, "a");
  const renewed = await a.renew(1);
  assert.ok(renewed.renewedAt >= ea.renewedAt);
  const eb = await b.acquire();
  assert.equal(eb.epoch, 2);
  await assert.rejects(a.check(1), (e) => isFencedError(e) && e.epoch === 1 && e.current === 2 && e.holder === "b" && /superseded/.test(e.message));
  await assert.rejects(a.renew(1), isFencedError);
  assert.equal((await b.check(2)).holder, "b");
});

test("lease - concurrent acquirers get distinct epochs; exactly one is current", async () => {
  const run = uniqueName("r");
  const holders = await Promise.all(["a", "b", "c", "d"].map((h) => openLease(env.nc, { run, name: "x", holder: h })));
  const epochs = (await Promise.all(holders.map((l) => l.acquire()))).map((r) => r.epoch).sort();
  assert.deepEqual(epochs, [1, 2, 3, 4]);
  const current = await Promise.all(holders.map((l, i) => l.check(epochs[i]!).then(() => 1, () => 0)));
  assert.equal(current.reduce((x: number, y: number) => x + y, 0), 1);
});

test("lease - a kept lease notices a successor by itself and says so once", async () => {
  const run = uniqueName("r");
  const a = await openLease(env.nc, { run, name: "director", holder: "a" });
  const { epoch } = await a.acquire();
  const fenced = deferred<number>();
  let calls = 0;
  const keeper = a.keep(epoch, { everyMs: 50, onFenced: (e) => { calls++; fenced.resolve(e.current); } });
  try {
    const before = (await a.current())!.renewedAt;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await a.current())!.renewedAt > before, "renewed while it holds the lease");
    await (await openLease(env.nc, { run, name: "director", holder: "b" })).acquire();
    assert.equal(await fenced, 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls, 1);
  } finally {
    keeper.stop();
  }
});
