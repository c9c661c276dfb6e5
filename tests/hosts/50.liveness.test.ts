// The liveness table on a simulated clock: when a host is up, dead, left, back, restarted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLivenessTable } from "../../hosts/mod.js";
import { hostRecord } from "./fixtures/host-record.js";


test("liveness - a beating host is up; silent longer than deadAfterMs it is dead, with how long it was silent", () => {
  const t = createLivenessTable({ deadAfterMs: 3000 });
  assert.deepEqual(t.observe("h0", hostRecord("h0"), true, 1000).map((e) => e.kind), ["up"]);
  for (let at = 2000; at <= 4000; at += 1000) {
    t.observe("h0", hostRecord("h0"), true, at);
    assert.deepEqual(t.sweep(at), []);
  }
  assert.deepEqual(t.sweep(7000), [], "exactly deadAfterMs of silence is not yet dead");
  const [dead] = t.sweep(7001);
  assert.equal(dead?.kind, "dead");
  assert.ok(dead?.kind === "dead" && dead.silentMs === 3001 && dead.lastBeatAt === 4000 && dead.confirmed);
  assert.equal(t.get("h0")?.status, "dead");
  assert.deepEqual(t.sweep(9000), [], "declared once");
});

test("liveness - a value the watch starts with is not a heartbeat: unknown, then dead unless it beats", () => {
  const t = createLivenessTable({ deadAfterMs: 1000 });
  assert.deepEqual(t.observe("old", hostRecord("old"), false, 0), []);
  assert.equal(t.get("old")?.status, "unknown");
  const [e] = t.sweep(1001);
  assert.ok(e?.kind === "dead" && !e.confirmed);
  // the other way: it beats in time and is up
  const u = createLivenessTable({ deadAfterMs: 1000 });
  u.observe("h", hostRecord("h"), false, 0);
  assert.deepEqual(u.observe("h", hostRecord("h"), true, 500).map((x) => x.kind), ["up"]);
  assert.deepEqual(u.sweep(1001), []);
});

test("liveness - leaving or a deleted record is a clean leave, at once; a later beat is a rejoin", () => {
  const t = createLivenessTable({ deadAfterMs: 1000 });
  t.observe("h", hostRecord("h"), true, 0);
  assert.deepEqual(t.observe("h", hostRecord("h", { state: "leaving" }), true, 10).map((e) => e.kind), ["left"]);
  assert.deepEqual(t.observe("h", null, true, 20), [], "the delete after leaving is the same leave");
  assert.deepEqual(t.sweep(5000), [], "a host that left is never declared dead");
  const [back] = t.observe("h", hostRecord("h", { instance: "h-i2" }), true, 6000);
  assert.ok(back?.kind === "up" && back.rejoined && back.restarted);
});

test("liveness - a new agent instance under the same name is reported as a restart even without a gap", () => {
  const t = createLivenessTable({ deadAfterMs: 1000 });
  t.observe("h", hostRecord("h"), true, 0);
  assert.deepEqual(t.observe("h", hostRecord("h"), true, 100), []);
  const [e] = t.observe("h", hostRecord("h", { instance: "other" }), true, 200);
  assert.ok(e?.kind === "up" && e.restarted && !e.rejoined);
});

test("liveness - the watcher's own outage is excused: silence before excuseUntil does not count", () => {
  const t = createLivenessTable({ deadAfterMs: 1000 });
  t.observe("h", hostRecord("h"), true, 0);
  t.excuseUntil(5000); // we were disconnected until 5000
  assert.deepEqual(t.sweep(5500), []);
  assert.equal(t.sweep(6001)[0]?.kind, "dead", "silent for deadAfterMs after the excuse: dead");
});
