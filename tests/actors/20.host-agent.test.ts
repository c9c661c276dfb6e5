// The host agent on a real nats-server: it registers, heartbeats what it runs, starts and stops
// actors as its placement changes, refuses a displaced director's placement, stops the actors
// of a run nobody directs any more, and leaves cleanly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startHostAgent } from "../../actors/agent/mod.js";
import { openDirectorLease } from "../../actors/cast/mod.js";
import { Echo } from "../../actors/bench/echo.js";
import { openPeer, startSupervisor } from "../../actors/mod.js";
import { type AssignedActor, type Assignment, type HostRecord, openAssignments, openHostRegistry } from "../../hosts/mod.js";
import { Ping, actorAddress } from "../../protocol/mod.js";
import { check, natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

const echo = (id: string, config: unknown = null): AssignedActor => ({ role: "bench-echo", id, config, restart: "permanent", cores: 1 });
const assignment = (host: string, run: string, actors: AssignedActor[], epoch = 1): Assignment => ({ run, host, epoch, actors, at: Date.now() });

async function record(name: string): Promise<HostRecord | null> {
  return (await (await openHostRegistry(env.nc)).get(name))?.record ?? null;
}

test("supervisor - a persistent supervisor adds and removes children and lives on with none", async () => {
  const run = uniqueName("r");
  const sup = startSupervisor({ run, natsUrl: env.nats.url, nc: env.nc, host: "h", children: [], persistent: true });
  let finished = false;
  void sup.done.then(() => (finished = true));
  try {
    sup.add({ role: "bench-echo", id: "a" });
    await sup.ready();
    const peer = openPeer({ nc: env.nc, run });
    assert.equal((await peer.call(actorAddress(run, "bench-echo", "a"), Echo, { x: 3 })).x, 3);
    assert.throws(() => sup.add({ role: "bench-echo", id: "a" }), /already supervised/);
    await sup.remove("bench-echo", "a");
    assert.deepEqual(sup.children(), []);
    await new Promise((r) => setImmediate(r));
    assert.equal(finished, false, "a persistent supervisor is not done when its last child goes");
    sup.add({ role: "bench-echo", id: "b" });
    await sup.ready();
    assert.equal((await peer.call(actorAddress(run, "bench-echo", "b"), Echo, { x: 4 })).x, 4);
  } finally {
    await sup.stop();
  }
  assert.equal(await sup.done, undefined);
  assert.throws(() => sup.add({ role: "bench-echo", id: "c" }), /stopping/);
});

test("host agent - registers, runs what is placed on it, follows changes, reports it in its heartbeats, leaves cleanly", async () => {
  const name = uniqueName("h");
  const run = uniqueName("r");
  const agent = await startHostAgent({ natsUrl: env.nats.url, name, tags: ["mac", "thunderbolt"], cores: 3, beatMs: 100, links: [{ address: "10.9.8.7", interface: "data0" }] });
  const placements = await openAssignments(env.nc);
  const peer = openPeer({ nc: env.nc, run });
  try {
    const r0 = await check(() => record(name), { what: "registered" });
    assert.deepEqual([r0.state, r0.cores, r0.tags, r0.links[0]?.address, r0.runs], ["up", 3, ["mac", "thunderbolt"], "10.9.8.7", []]);
    assert.ok(r0.kernels.mode.length > 0 && r0.memoryMb > 0);

    await placements.put(assignment(name, run, [echo("0"), echo("1")]));
    const ping = (id: string) => peer.call(actorAddress(run, "bench-echo", id), Ping, {}, { timeoutMs: 2000 });
    const p0 = await check(() => ping("0").catch(() => null), { what: "bench-echo/0 up", timeoutMs: 20_000 });
    assert.equal(p0.host, name, "the actor knows the host it runs on");
    await check(() => ping("1").catch(() => null), { what: "bench-echo/1 up", timeoutMs: 20_000 });
    const r1 = await check(async () => {
      const r = await record(name);
      return r?.runs[0]?.actors.every((a) => a.state === "running") && r.runs[0].actors.length === 2 ? r : null;
    }, { what: "both running in the heartbeat" });
    assert.deepEqual([r1.load.actors, r1.load.cores, r1.runs[0]!.run], [2, 2, run]);

    // one actor goes, one config changes (a restart: a new pid), the other stays put
    const pid1 = (await ping("1")).pid;
    await placements.put(assignment(name, run, [echo("1", { x: 1 })]));
    await check(async () => (await ping("1").catch(() => null))?.pid !== pid1 && (await ping("0").catch(() => null)) === null, { what: "0 stopped, 1 restarted", timeoutMs: 20_000 });

    await placements.remove(name, run);
    await check(async () => (await record(name))?.runs.length === 0 && (await ping("1").catch(() => null)) === null, { what: "the run's actors stopped" });

    await placements.put(assignment(name, run, [echo("2")]));
    await check(() => ping("2").catch(() => null), { what: "bench-echo/2 up", timeoutMs: 20_000 });
    await agent.leave("test");
    assert.equal(await record(name), null, "a clean leave deletes the record");
    assert.equal(await ping("2").catch(() => null), null, "and stops its actors");
  } finally {
    await agent.leave("test");
    await placements.remove(name, run).catch(() => undefined);
  }
});

test("host agent - a placement written under an older director epoch than the lease's is refused (fencing)", async () => {
  const name = uniqueName("h");
  const run = uniqueName("r");
  const lease = await openDirectorLease(env.nc, run, "test");
  await lease.acquire();
  await lease.acquire(); // epoch 2: a newer director owns the run
  const agent = await startHostAgent({ natsUrl: env.nats.url, name, beatMs: 100 });
  const placements = await openAssignments(env.nc);
  const peer = openPeer({ nc: env.nc, run });
  try {
    const seq = (await check(() => record(name), { what: "registered" })).seq;
    await placements.put(assignment(name, run, [echo("old")], 1));
    // an accepted placement shows in the next heartbeat (an actor "starting"); give it ten
    await check(async () => ((await record(name))?.seq ?? 0) >= seq + 10, { what: "ten heartbeats" });
    assert.deepEqual((await record(name))?.runs, [], "nothing runs for the stale epoch");
    await placements.put(assignment(name, run, [echo("new")], 2));
    await check(() => peer.call(actorAddress(run, "bench-echo", "new"), Ping, {}, { timeoutMs: 2000 }).catch(() => null), { what: "the current epoch's actor", timeoutMs: 20_000 });
    assert.equal(await peer.call(actorAddress(run, "bench-echo", "old"), Ping, {}, { timeoutMs: 500 }).catch(() => null), null);
    assert.deepEqual((await record(name))?.runs[0]?.actors.map((a) => a.id), ["new"]);
  } finally {
    await agent.leave("test");
    await placements.remove(name, run).catch(() => undefined);
  }
});

test("host agent - a run whose director stopped renewing its lease is orphaned: its actors stop and its placement goes", async () => {
  const name = uniqueName("h");
  const run = uniqueName("r");
  const lease = await openDirectorLease(env.nc, run, "test");
  const { epoch } = await lease.acquire();
  const keeper = lease.keep(epoch, { everyMs: 100, onFenced: () => undefined });
  const agent = await startHostAgent({ natsUrl: env.nats.url, name, beatMs: 100, orphanMs: 1500 });
  const placements = await openAssignments(env.nc);
  try {
    await placements.put(assignment(name, run, [echo("0")], epoch));
    await check(async () => (await record(name))?.runs[0]?.actors[0]?.state === "running", { what: "running", timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 2500)); // longer than orphanMs while the lease is renewed
    assert.equal((await record(name))?.runs.length, 1, "a renewed lease keeps the run");
    keeper.stop(); // the director is gone
    await check(async () => (await record(name))?.runs.length === 0, { what: "orphan stopped", timeoutMs: 10_000 });
    await check(async () => (await placements.get(name, run)) === null, { what: "placement removed" });
  } finally {
    keeper.stop();
    await agent.leave("test");
  }
});
