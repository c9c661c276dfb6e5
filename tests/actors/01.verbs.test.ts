import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  type RunningActor,
  defineActor,
  isCallTimeoutError,
  isNoResponderError,
  isRemoteError,
  on,
  onStream,
  openPeer,
  startActor,
} from "../../actors/mod.js";
import type { NatsConnection } from "../../hosts/mod.js";
import { Ping, Stats, actorAddress, defineMessage, t, wireTensor, type WireTensor } from "../../protocol/mod.js";
import { type TestNats, check, startNats, uniqueName } from "../harness/mod.js";

const Square = defineMessage("test.square", t.object({ n: t.int() }), t.object({ n2: t.int(), by: t.string() }));
const Fail = defineMessage("test.fail", t.object({}), t.unknown());
const Slow = defineMessage("test.slow", t.object({}), t.unknown());
const Note = defineMessage("test.note", t.object({ text: t.string() }));
const Count = defineMessage("test.count", t.object({ to: t.int({ min: 0, max: 1000 }) }), t.int());
const Relay = defineMessage("test.relay", t.object({ n: t.int() }), t.object({ trace: t.string(), inner: t.string() }));
const Trace = defineMessage("test.trace", t.object({}), t.string());
const Sum = defineMessage("test.sum", t.object({ x: t.tensor({ dtypes: ["f32"] }) }), t.object({ sum: t.number(), echo: t.tensor({ dtypes: ["f32"] }) }));

let nats: TestNats;
let nc: NatsConnection;
const run = uniqueName("r");
const notes: string[] = [];
const actors: RunningActor[] = [];
let release: () => void = () => {};

function squarer(id: string) {
  return defineActor({
    role: "squarer",
    handlers: [
      on(Square, (b, ctx) => ({ n2: b.n * b.n, by: ctx.id })),
      on(Fail, () => {
        throw new Error("handler refuses");
      }),
      on(Slow, () => new Promise<void>((r) => (release = r))),
      on(Note, (b, ctx) => void notes.push(`${ctx.id}:${b.text}`)),
      onStream(Count, async function* (b) {
        for (let i = 0; i < b.to; i++) yield i;
      }),
      // calls the other actor (calling itself would wait for its own mailbox: one message at a time)
      on(Relay, async (_b, ctx) => ({ trace: ctx.envelope.trace, inner: await ctx.call(actorAddress(run, "squarer", id === "a" ? "b" : "a"), Trace, {}) })),
      on(Trace, (_b, ctx) => ctx.envelope.trace),
      on(Sum, (b) => ({ sum: new Float32Array(b.x.data.buffer, b.x.data.byteOffset, b.x.data.byteLength / 4).reduce((a, v) => a + v, 0), echo: b.x })),
    ],
  });
}

before(async () => {
  nats = await startNats();
  nc = await nats.connect();
  for (const id of ["a", "b"]) actors.push(await startActor(squarer(id), { nc: await nats.connect(), run, id, heartbeatMs: 0 }));
});
after(async () => {
  release();
  await Promise.all(actors.map((a) => a.stop()));
  await nats.stop();
});

test("verbs - call one: a typed reply from the addressed actor", async () => {
  const peer = openPeer({ nc, run });
  assert.deepEqual(await peer.call(actorAddress(run, "squarer", "a"), Square, { n: 7 }), { n2: 49, by: "a" });
  assert.deepEqual(await peer.call(actorAddress(run, "squarer", "b"), Square, { n: 3 }), { n2: 9, by: "b" });
  const pong = await peer.call(actorAddress(run, "squarer", "a"), Ping, {});
  assert.equal(pong.role, "squarer");
  assert.equal(pong.pid, process.pid);
});

test("verbs - choose one of a group: every call answered by exactly one member", async () => {
  const peer = openPeer({ nc, run });
  const by = await Promise.all(Array.from({ length: 40 }, (_, n) => peer.choose("squarer", Square, { n })));
  assert.equal(by.length, 40);
  assert.ok(by.every((r, n) => r.n2 === n * n));
  assert.ok(by.some((r) => r.by === "a") && by.some((r) => r.by === "b"), "the queue group spreads the work");
});

test("verbs - broadcast and forget: every actor of the role gets it", async () => {
  const peer = openPeer({ nc, run });
  await peer.broadcast({ role: "squarer" }, Note, { text: "hello" });
  await peer.broadcast("all", Note, { text: "all" });
  await check(() => notes.length === 4, { what: "4 notes" });
  assert.deepEqual(notes.sort(), ["a:all", "a:hello", "b:all", "b:hello"]);
});

test("verbs - stream replies: items in order, then the end", async () => {
  const peer = openPeer({ nc, run });
  const got: number[] = [];
  for await (const i of peer.stream(actorAddress(run, "squarer", "a"), Count, { to: 25 })) got.push(i);
  assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => i));
});

test("verbs - a handler error comes back as a RemoteError and is counted, the actor lives on", async () => {
  const peer = openPeer({ nc, run });
  const to = actorAddress(run, "squarer", "a");
  await assert.rejects(peer.call(to, Fail, {}), (e) => isRemoteError(e) && e.remoteCode === "HANDLER" && /handler refuses/.test(e.message));
  const stats = await peer.call(to, Stats, {});
  assert.ok(stats.handlerErrors >= 1);
  assert.deepEqual(await peer.call(to, Square, { n: 2 }), { n2: 4, by: "a" });
});

test("verbs - a body the actor's schema refuses is a RemoteError with the decode code", async () => {
  const peer = openPeer({ nc, run });
  const to = actorAddress(run, "squarer", "b");
  const before = await peer.call(to, Stats, {});
  await assert.rejects(peer.call(to, Square, { n: "seven" } as never), (e) => isRemoteError(e) && e.remoteCode === "SCHEMA" && /test\.square\.n/.test(e.message));
  const Unknown = defineMessage("test.unknown", t.unknown());
  await assert.rejects(peer.call(to, Unknown, {}), (e) => isRemoteError(e) && e.remoteCode === "UNKNOWN_KIND");
  const after = await peer.call(to, Stats, {});
  assert.equal(after.rejected - before.rejected, 2);
  assert.equal(after.rejectedByCode.SCHEMA - before.rejectedByCode.SCHEMA, 1);
});

test("verbs - no responder and timeout are typed errors", async () => {
  const peer = openPeer({ nc, run });
  await assert.rejects(peer.call(actorAddress(run, "nobody", "x"), Square, { n: 1 }), isNoResponderError);
  await assert.rejects(peer.call(actorAddress(run, "squarer", "a"), Slow, {}, { timeoutMs: 200 }), isCallTimeoutError);
  release();
});

test("verbs - calls made while handling a message continue its trace", async () => {
  const peer = openPeer({ nc, run });
  const r = await peer.call(actorAddress(run, "squarer", "b"), Relay, { n: 1 }, { trace: "trace-xyz" });
  assert.deepEqual(r, { trace: "trace-xyz", inner: "trace-xyz" });
});

test("verbs - a tensor larger than a message travels through the Object Store both ways", async () => {
  const peer = openPeer({ nc, run, blobs: undefined });
  const x = wireTensor("f32", [3 * 1024 * 1024], new Float32Array(3 * 1024 * 1024).fill(0.25)); // 12 MiB > max_payload
  await assert.rejects(peer.call(actorAddress(run, "squarer", "a"), Sum, { x }), /no blob store/);
  const { objectBlobStore, openObjects } = await import("../../hosts/mod.js");
  const blobs = objectBlobStore(await openObjects(nc, { run, bucket: "blobs" }));
  const withBlobs = openPeer({ nc, run, blobs });
  const r = await withBlobs.call(actorAddress(run, "squarer", "a"), Sum, { x }, { timeoutMs: 30_000 });
  assert.equal(r.sum, 0.25 * 3 * 1024 * 1024);
  assert.deepEqual((r.echo as WireTensor).shape, [3 * 1024 * 1024]);
  assert.deepEqual(r.echo.data, x.data);
});
