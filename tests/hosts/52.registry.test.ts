// The host registry on a real nats-server: heartbeats seen by a watcher, a silent host declared
// dead within its bound, a clean leave seen at once, a name a live agent holds refused, and a
// server restart that kills nobody.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type HostRecord, type LivenessEvent, claimHostName, isHostNameTakenError, isHostsMissingError, openHostRegistry, startHeartbeat, watchHosts } from "../../hosts/mod.js";
import { check, natsForFile, nextReconnect, uniqueName } from "../harness/mod.js";
import { hostRecord } from "./fixtures/host-record.js";

const env = natsForFile();

function beating(name: string, everyMs: number, o: Partial<HostRecord> = {}) {
  return openHostRegistry(env.nc).then((registry) => ({
    registry,
    hb: startHeartbeat({ registry, everyMs, record: () => hostRecord(name, { beatMs: everyMs, ...o }) }),
  }));
}

test("registry - a heartbeating host is up; once it stops it is declared dead within deadAfterMs and a sweep", async () => {
  const name = uniqueName("h");
  const events: (LivenessEvent & { seen: number })[] = [];
  const w = await watchHosts(env.nc, { deadAfterMs: 600, onEvent: (e) => e.host === name && events.push({ ...e, seen: Date.now() }) });
  try {
    const { hb, registry } = await beating(name, 100);
    await check(() => w.get(name)?.status === "up", { what: "the host up" });
    assert.equal((await registry.get(name))?.record.name, name);
    await check(() => hb.beats >= 5, { what: "5 beats" });
    await hb.stop();
    const stoppedAt = Date.now();
    await check(() => events.some((e) => e.kind === "dead"), { what: "declared dead", timeoutMs: 5000 });
    const dead = events.find((e) => e.kind === "dead")!;
    const after = dead.seen - stoppedAt;
    assert.ok(after <= 600 + 60 + 100, `declared ${after} ms after the last beat (bound: deadAfterMs + a sweep + a beat in flight)`);
    assert.ok(dead.kind === "dead" && dead.silentMs > 600);
    assert.deepEqual(events.map((e) => e.kind), ["up", "dead"]);
  } finally {
    w.stop();
  }
});

test("registry - a clean leave is seen at once, not after deadAfterMs", async () => {
  const name = uniqueName("h");
  const w = await watchHosts(env.nc, { deadAfterMs: 60_000 });
  try {
    const registry = await openHostRegistry(env.nc);
    await registry.put({ ...hostRecord(name), seq: 1 });
    await check(() => w.get(name)?.status === "up", { what: "up" });
    const t0 = Date.now();
    await registry.put({ ...hostRecord(name, { state: "leaving" }), seq: 2 });
    await registry.remove(name);
    await check(() => w.get(name)?.status === "left", { what: "left" });
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    w.stop();
  }
});

test("registry - waiting for hosts names who is missing and why", async () => {
  const up = uniqueName("h");
  const ghost = uniqueName("h");
  const registry = await openHostRegistry(env.nc);
  await registry.put({ ...hostRecord(ghost), seq: 9 }); // a record nobody rewrites: a dead agent's
  const { hb } = await beating(up, 100);
  const w = await watchHosts(env.nc, { deadAfterMs: 400 });
  try {
    await w.waitFor([up], { timeoutMs: 5000 });
    const never = uniqueName("h");
    const err = await w.waitFor([up, ghost, never], { timeoutMs: 800 }).then(() => null, (e: unknown) => e);
    assert.ok(isHostsMissingError(err), String(err));
    assert.deepEqual(err.missing.map((m) => m.host), [ghost, never]);
    assert.match(err.message, new RegExp(`${ghost} \\(listed, but no heartbeat came while waiting`));
    assert.match(err.message, new RegExp(`${never} \\(never registered\\)`));
    assert.match(err.message, /troupe host --nats URL --name NAME/);
  } finally {
    w.stop();
    await hb.stop();
  }
});

test("registry - a name another live agent beats under is refused; a dead agent's name is taken over", async () => {
  const name = uniqueName("h");
  const { hb, registry } = await beating(name, 100);
  try {
    await check(async () => (await registry.get(name)) !== null, { what: "registered" });
    await assert.rejects(claimHostName(registry, name, "another-instance", { minWaitMs: 300 }), (e) => isHostNameTakenError(e) && /still heartbeats/.test(e.message));
  } finally {
    await hb.stop();
  }
  await claimHostName(registry, name, "another-instance", { minWaitMs: 300 }); // nobody beats now
  await claimHostName(registry, uniqueName("h"), "x"); // a free name
});

test("registry - a nats-server restart longer than deadAfterMs kills nobody; a host silent after it is still declared dead", async () => {
  const name = uniqueName("h");
  const quiet = uniqueName("h");
  const events: LivenessEvent[] = [];
  const w = await watchHosts(env.nc, { deadAfterMs: 800, onEvent: (e) => (e.host === name || e.host === quiet) && events.push(e) });
  const { hb } = await beating(name, 100);
  const other = await beating(quiet, 100);
  try {
    await check(() => w.get(name)?.status === "up" && w.get(quiet)?.status === "up", { what: "both up" });
    const back = nextReconnect(env.nc);
    await env.nats.server.kill();
    await new Promise((r) => setTimeout(r, 1500)); // the outage itself (longer than deadAfterMs)
    await env.nats.server.restart();
    await back;
    await other.hb.stop(); // this one dies right after the restart
    await check(() => events.some((e) => e.kind === "dead" && e.host === quiet), { what: "the silent host declared dead", timeoutMs: 10_000 });
    assert.equal(w.get(name)?.status, "up", "the host that kept beating through the restart is up");
    assert.ok(!events.some((e) => e.kind === "dead" && e.host === name), JSON.stringify(events));
    const before = hb.beats;
    await check(() => hb.beats > before + 3, { what: "beats after the restart" });
  } finally {
    w.stop();
    await hb.stop();
  }
});
