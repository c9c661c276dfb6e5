import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type Supervisor, isNoResponderError, isSupervisorEscalation, openPeer, startSupervisor } from "../../actors/mod.js";
import type { NatsConnection } from "../../hosts/mod.js";
import { Heartbeat, SupervisionEvent, type SupervisionEventBody, actorAddress, createCodec, createStamper, heartbeatWildcard, supervisionWildcard } from "../../protocol/mod.js";
import { type TestNats, check, deferred, startNats, uniqueName } from "../harness/mod.js";
import { Finish, Hang, Hello } from "./fixtures/messages.js";

const CRASHY = new URL("./fixtures/crashy.js", import.meta.url);
let nats: TestNats;
let nc: NatsConnection;
const codec = createCodec();
before(async () => {
  nats = await startNats();
  nc = await nats.connect();
});
after(() => nats.stop());

/** Supervision events of a run as seen on NATS. */
function watchEvents(run: string): SupervisionEventBody[] {
  const events: SupervisionEventBody[] = [];
  nc.subscribe(supervisionWildcard(run), {
    callback: (_e, m) => {
      events.push(SupervisionEvent.body.parse(codec.decode(m.data).body));
    },
  });
  return events;
}

function supervise(run: string, ids: string[], extra: Partial<Parameters<typeof startSupervisor>[0]> = {}, config: unknown = {}): Supervisor {
  return startSupervisor({
    run,
    host: "testhost",
    natsUrl: nats.url,
    nc,
    children: ids.map((id) => ({ role: "crashy", id, module: CRASHY, config })),
    heartbeatMs: 1000,
    ...extra,
  });
}

test("supervisor - a kill -9'd actor comes back in a new process; events are published on NATS", async () => {
  const run = uniqueName("r");
  const events = watchEvents(run);
  await nc.flush();
  const sup = supervise(run, ["w"]);
  try {
    await sup.ready();
    const peer = openPeer({ nc, run });
    const to = actorAddress(run, "crashy", "w");
    const first = await peer.call(to, Hello, {});
    assert.equal(first.pid, sup.pidOf("crashy", "w"));
    process.kill(first.pid, "SIGKILL");
    await check(() => sup.children()[0]!.state === "running" && sup.pidOf("crashy", "w") !== first.pid, { what: "restart" });
    const second = await peer.call(to, Hello, {});
    assert.notEqual(second.pid, first.pid);
    await check(() => events.filter((e) => e.event === "started").length === 2, { what: "second started event" });
    assert.deepEqual(events.map((e) => e.event), ["started", "exited", "restarting", "started"]);
    assert.equal(events[1]!.signal, "SIGKILL");
    assert.equal(events[2]!.delayMs, 100);
    assert.ok(typeof events[3]!.downMs === "number" && events[3]!.downMs > 0);
    assert.equal(events[3]!.restarts, 1);
  } finally {
    await sup.stop();
  }
});

test("supervisor - one actor's crash takes down nothing else", async () => {
  const run = uniqueName("r");
  const sup = supervise(run, ["a", "b"]);
  try {
    await sup.ready();
    const peer = openPeer({ nc, run });
    const pidB = sup.pidOf("crashy", "b")!;
    process.kill(sup.pidOf("crashy", "a")!, "SIGKILL");
    assert.equal((await peer.call(actorAddress(run, "crashy", "b"), Hello, {})).pid, pidB);
    await check(() => sup.children()[0]!.restarts === 1 && sup.children().every((c) => c.state === "running"), { what: "a restarted" });
    assert.equal(sup.pidOf("crashy", "b"), pidB);
    assert.deepEqual(sup.children().map((c) => c.restarts), [1, 0]);
  } finally {
    await sup.stop();
  }
});

test("supervisor - too many restarts in the window escalate to the owner", async () => {
  const run = uniqueName("r");
  const events = watchEvents(run);
  const escalated = deferred<Error>();
  const sup = supervise(run, ["f"], { intensity: { maxRestarts: 3, withinMs: 60_000 }, backoff: { initialMs: 10 }, onEscalate: escalated.resolve }, { failStart: true });
  const err = await escalated;
  assert.ok(isSupervisorEscalation(err));
  assert.match(err.message, /crashy\/f failed 3 times/);
  assert.equal(await sup.done, err);
  await assert.rejects(sup.ready(), isSupervisorEscalation);
  await check(() => events.some((e) => e.event === "escalated"), { what: "escalated event on NATS" });
  assert.equal(events.filter((e) => e.event === "restarting").length, 3);
});

test("supervisor - a config the actor refuses escalates at once, without restarts", async () => {
  const run = uniqueName("r");
  const sup = supervise(run, ["c"], {}, { failStart: "yes" });
  const err = await sup.done;
  assert.ok(isSupervisorEscalation(err));
  assert.equal(sup.children()[0]!.restarts, 0);
});

test("supervisor - stop is graceful: onStop runs, the process exits 0 and is not restarted", async () => {
  const run = uniqueName("r");
  const events = watchEvents(run);
  const stopped: string[] = [];
  nc.subscribe(`troupe.${run}._test.stopped`, { callback: (_e, m) => void stopped.push(m.string()) });
  await nc.flush();
  const sup = supervise(run, ["x", "y"]);
  await sup.ready();
  await sup.stop();
  assert.equal(await sup.done, undefined);
  await check(() => stopped.length === 2, { what: "both onStop hooks" });
  const exits = await check(() => {
    const e = events.filter((x) => x.event === "exited");
    return e.length === 2 && e;
  }, { what: "two exited events" });
  assert.deepEqual(exits.map((e) => e.code), [0, 0]);
  await assert.rejects(openPeer({ nc, run }).call(actorAddress(run, "crashy", "x"), Hello, {}), isNoResponderError);
});

test("supervisor - a transient actor that finishes is not restarted; done resolves when nothing is left", async () => {
  const run = uniqueName("r");
  const sup = startSupervisor({ run, host: "testhost", natsUrl: nats.url, children: [{ role: "crashy", id: "t", module: CRASHY, restart: "transient", config: {} }] });
  await sup.ready();
  await openPeer({ nc, run }).call(actorAddress(run, "crashy", "t"), Finish, {});
  assert.equal(await sup.done, undefined);
  assert.equal(sup.children()[0]!.restarts, 0);
  assert.equal(sup.children()[0]!.state, "stopped");
});

test("supervisor - actors publish heartbeats with their mailbox stats", async () => {
  const run = uniqueName("r");
  const beats: string[] = [];
  nc.subscribe(heartbeatWildcard(run), {
    callback: (_e, m) => {
      const hb = Heartbeat.body.parse(codec.decode(m.data).body);
      beats.push(`${hb.role}/${hb.id}:${hb.pid > 0 && hb.stats.received >= 0}`);
    },
  });
  await nc.flush();
  const sup = supervise(run, ["h"], { heartbeatMs: 200 });
  try {
    await sup.ready();
    await check(() => beats.length >= 2, { what: "two heartbeats" });
    assert.ok(beats.every((b) => b === "crashy/h:true"));
  } finally {
    await sup.stop();
  }
});

test("supervisor - a child's own watchdog overrides the supervisor's: a long computation is not taken for a hang", async () => {
  const run = uniqueName("r");
  const sup = startSupervisor({
    run, host: "testhost", natsUrl: nats.url, nc, heartbeatMs: 200, watchdogMs: 1000,
    children: [
      { role: "crashy", id: "patient", module: CRASHY, config: {}, watchdogMs: 600_000 },
      { role: "crashy", id: "plain", module: CRASHY, config: {} },
    ],
  });
  try {
    await sup.ready();
    const pids = [sup.pidOf("crashy", "patient"), sup.pidOf("crashy", "plain")];
    for (const id of ["patient", "plain"]) nc.publish(actorAddress(run, "crashy", id), codec.encode(createStamper(run, "t").stamp(Hang.kind, {})));
    // the plain one is killed after 1 s of silence; the patient one, silent as long, is not
    await check(() => sup.children().find((c) => c.id === "plain")!.restarts === 1, { what: "the plain child's watchdog restart" });
    assert.equal(sup.pidOf("crashy", "patient"), pids[0]);
    assert.equal(sup.children().find((c) => c.id === "patient")!.restarts, 0);
  } finally {
    await sup.stop();
  }
});

test("supervisor - a hung actor (no heartbeats) is killed by the watchdog and restarted", async () => {
  const run = uniqueName("r");
  const events = watchEvents(run);
  const sup = supervise(run, ["stuck"], { heartbeatMs: 200, watchdogMs: 1000 });
  try {
    await sup.ready();
    const pid = sup.pidOf("crashy", "stuck");
    nc.publish(actorAddress(run, "crashy", "stuck"), codec.encode(createStamper(run, "t").stamp(Hang.kind, {})));
    await check(() => sup.children()[0]!.restarts === 1 && sup.children()[0]!.state === "running", { what: "watchdog restart" });
    assert.notEqual(sup.pidOf("crashy", "stuck"), pid);
    const exited = events.find((e) => e.event === "exited");
    assert.equal(exited?.signal, "SIGKILL");
  } finally {
    await sup.stop();
  }
});
