// Links on loopback (the namespace tests are in 12.rig-links): frames, attachments, backpressure,
// the handshake, dead peers, bad frames, and endpoints exchanged through NATS KV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import {
  type Link,
  FRAME_HEADER_BYTES,
  LinkClosedError,
  LinkConnectError,
  LinkPeerDeadError,
  LinkProtocolError,
  dialLink,
  listenLinks,
  openEndpointRegistry,
  writeFrameHeader,
} from "../../hosts/mod.js";
import { createCodec, createStamper } from "../../protocol/mod.js";
import { check, deferred, natsForFile, uniqueName } from "../harness/mod.js";

const PEER = fileURLToPath(new URL("./fixtures/link-peer.js", import.meta.url));
const env = natsForFile();

async function pair(opts: { heartbeatMs?: number; deadAfterMs?: number; maxQueuedBytes?: number } = {}) {
  const run = uniqueName("r");
  const accepted = deferred<Link>();
  const listener = await listenLinks({ name: "a", run, onLink: (l) => accepted.resolve(l), ...opts });
  const b = await dialLink({ name: "b", peer: "a", run, host: listener.host, port: listener.port, ...opts });
  const a = await accepted;
  return { a, b, listener, run, [Symbol.asyncDispose]: async () => { a.close(); b.close(); await listener.close(); } };
}

function pattern(n: number, seed: number): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 31 + seed) & 0xff;
  return u;
}

test("links - frames arrive in order both ways; attachments land in the sink's buffer", async () => {
  await using p = await pair();
  const sizes = [0, 1, 7, 4096, 65_537, 5 << 20];
  const dests = new Map<number, Uint8Array>();
  const got: { i: number; att: Uint8Array | null }[] = [];
  const done = deferred();
  p.b.handle({
    sink: (e, bytes) => {
      const d = new Uint8Array(bytes);
      dests.set((e.body as { i: number }).i, d);
      return d;
    },
    frame: (e, att) => {
      got.push({ i: (e.body as { i: number }).i, att });
      if (got.length === sizes.length) done.resolve();
    },
  });
  for (let i = 0; i < sizes.length; i++) await p.a.send("test.blob", { i }, sizes[i] ? pattern(sizes[i]!, i) : undefined);
  await done;
  assert.deepEqual(got.map((g) => g.i), sizes.map((_, i) => i));
  for (let i = 0; i < sizes.length; i++) {
    if (sizes[i] === 0) assert.equal(got[i]!.att, null);
    else {
      assert.deepEqual(got[i]!.att, pattern(sizes[i]!, i));
      assert.equal(got[i]!.att, dests.get(i), "the attachment is the sink's own buffer (no copy)");
    }
  }
  // and the other way (the dialer's side writes, the acceptor copies from 'data' chunks)
  const back = deferred<Uint8Array | null>();
  p.a.handle({ frame: (_e, att) => back.resolve(att) });
  await p.b.send("test.back", { ok: true }, pattern(3 << 20, 9));
  assert.deepEqual(await back, pattern(3 << 20, 9));
  assert.equal(p.a.stats.framesOut, sizes.length);
  assert.equal(p.b.stats.framesIn, sizes.length);
});

test("links - send() waits (backpressure) once more than maxQueuedBytes are unsent, and nothing is lost", async () => {
  await using p = await pair({ maxQueuedBytes: 64 * 1024 });
  const frames = 32;
  const size = 4 << 20;
  let received = 0;
  let bytes = 0;
  const all = deferred();
  p.b.handle({
    frame: (e, att) => {
      assert.equal((e.body as { i: number }).i, received++);
      assert.equal(att![0], received - 1);
      bytes += att!.byteLength;
      if (received === frames) all.resolve();
    },
  });
  let settled = 0;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < frames; i++) {
    const att = new Uint8Array(size).fill(i);
    sends.push(p.a.send("test.bulk", { i }, att).then(() => void settled++));
  }
  await Promise.resolve();
  assert.ok(settled < frames, `some sends waited for the socket to drain (${settled} of ${frames} settled at once)`);
  await Promise.all(sends);
  await all;
  assert.equal(bytes, frames * size);
});

test("links - an endpoint refuses a hello its admit() rejects, and a hello for another name", async () => {
  const run = uniqueName("r");
  const listener = await listenLinks({ name: "a", run, admit: (h) => (h.meta.generation === 2 ? null : `generation ${String(h.meta.generation)} is stale`), onLink: () => undefined });
  try {
    await assert.rejects(dialLink({ name: "b", peer: "a", run, host: listener.host, port: listener.port, meta: { generation: 1 } }), (e) => e instanceof LinkConnectError && /refused the link: generation 1 is stale/.test(e.message));
    await assert.rejects(dialLink({ name: "b", peer: "x", run, host: listener.host, port: listener.port, meta: { generation: 2 } }), (e) => e instanceof LinkConnectError && /this endpoint is a, not x/.test(e.message));
    const ok = await dialLink({ name: "b", peer: "a", run, host: listener.host, port: listener.port, meta: { generation: 2 } });
    ok.close();
  } finally {
    await listener.close();
  }
});

async function peerProcess(run: string, heartbeatMs: number) {
  const accepted = deferred<Link>();
  const listener = await listenLinks({ name: "a", run, heartbeatMs, deadAfterMs: 6 * heartbeatMs, onLink: (l) => accepted.resolve(l) });
  const child = spawn(process.execPath, [PEER, JSON.stringify({ host: listener.host, port: listener.port, peer: "a", name: "child", run, heartbeatMs, deadAfterMs: 60_000 })], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  await check(() => out.includes("ready"), { what: "the peer process's handshake" });
  const link = await accepted;
  return { child, link, listener };
}

test("links - a peer killed with SIGKILL surfaces as LinkClosedError at once", async () => {
  const { child, link, listener } = await peerProcess(uniqueName("r"), 100);
  try {
    const echoed = deferred<unknown>();
    link.handle({ frame: (e) => echoed.resolve(e.kind) });
    await link.send("ping", { n: 1 });
    assert.equal(await echoed, "echo.ping");
    const t0 = performance.now();
    child.kill("SIGKILL");
    const why = await link.closed;
    const ms = performance.now() - t0;
    assert.ok(why instanceof LinkClosedError, `got ${why?.name}`);
    assert.ok(ms < 1000, `noticed after ${ms.toFixed(0)} ms`);
    await assert.rejects(link.send("late", {}), LinkClosedError);
  } finally {
    child.kill("SIGKILL");
    await listener.close();
  }
});

test("links - a peer that stops (SIGSTOP: alive, but silent) is declared dead by heartbeats within the bound", async () => {
  const heartbeatMs = 100;
  const { child, link, listener } = await peerProcess(uniqueName("r"), heartbeatMs);
  try {
    await check(() => link.stats.heartbeatsIn >= 2, { what: "heartbeats from the peer" });
    const t0 = performance.now();
    child.kill("SIGSTOP");
    const why = await link.closed;
    const ms = performance.now() - t0;
    assert.ok(why instanceof LinkPeerDeadError, `got ${why?.name}: ${why?.message}`);
    assert.ok(ms >= 6 * heartbeatMs - heartbeatMs && ms < 6 * heartbeatMs + 1500, `declared dead after ${ms.toFixed(0)} ms (bound ${6 * heartbeatMs} ms)`);
  } finally {
    child.kill("SIGKILL");
    await listener.close();
  }
});

test("links - this process's own blocked event loop is not taken for a dead peer", async () => {
  await using p = await pair({ heartbeatMs: 50, deadAfterMs: 300 });
  await check(() => p.a.stats.heartbeatsIn >= 2 && p.b.stats.heartbeatsIn >= 2, { what: "heartbeats both ways" });
  const until = Date.now() + 1000; // block the loop for 3x deadAfterMs: neither side can read or beat
  while (Date.now() < until) {
    // busy
  }
  const before = p.a.stats.heartbeatsIn;
  await check(() => p.a.stats.heartbeatsIn > before + 2, { what: "heartbeats after the block" });
  assert.equal(p.a.error, null);
  assert.equal(p.b.error, null);
});

test("links - a frame with a bad header breaks the link with LinkProtocolError", async () => {
  const server = createServer((s) => s.write(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n")));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(dialLink({ name: "b", peer: "a", run: "r", host: "127.0.0.1", port }), (e) => e instanceof LinkProtocolError && /not a troupe link frame/.test(e.message));
  } finally {
    server.close();
  }
});

test("links - an envelope that does not decode is counted and skipped with its attachment; the next frame arrives", async () => {
  const codec = createCodec();
  const st = createStamper("r", "raw");
  const frame = (kind: string, body: unknown, att?: Uint8Array) => {
    const e = codec.encode(st.stamp(kind, body));
    const h = writeFrameHeader(new Uint8Array(FRAME_HEADER_BYTES), e.byteLength, att?.byteLength ?? 0);
    return Buffer.concat([h, e, ...(att ? [att] : [])]);
  };
  const server = createServer((s) => {
    s.once("data", () => {
      s.write(frame("link.welcome", { from: "a" }));
      const garbage = Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]); // 0xc1 is never valid msgpack
      const h = writeFrameHeader(new Uint8Array(FRAME_HEADER_BYTES), garbage.byteLength, 3 << 20);
      s.write(Buffer.concat([h, garbage, Buffer.alloc(3 << 20, 7)]));
      s.write(frame("test.after", { ok: 1 }, new Uint8Array([1, 2, 3])));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  try {
    const link = await dialLink({ name: "b", peer: "a", run: "r", host: "127.0.0.1", port });
    const rejected: Error[] = [];
    const next = deferred<[string, Uint8Array | null]>();
    link.handle({ frame: (e, att) => next.resolve([e.kind, att]), reject: (err) => rejected.push(err) });
    const [kind, att] = await next;
    assert.equal(kind, "test.after");
    assert.deepEqual(att, new Uint8Array([1, 2, 3]));
    assert.equal(link.stats.rejected, 1);
    assert.equal(rejected.length, 1);
    assert.ok(rejected[0] instanceof LinkProtocolError && /did not decode/.test(rejected[0].message));
    link.close();
  } finally {
    server.close();
  }
});

test("links - endpoints are exchanged through NATS KV; a missing one times out naming what was found", async () => {
  const run = uniqueName("r");
  const reg = await openEndpointRegistry(env.nc, run);
  const accepted = deferred<Link>();
  const listener = await listenLinks({ name: "g.0", run, onLink: (l) => accepted.resolve(l) });
  try {
    const lookup = reg.lookup("g.0", { accept: (e) => e.meta.generation === 3, timeoutMs: 10_000 });
    await reg.publish({ name: "g.0", host: listener.host, port: listener.port, hostName: "h0", meta: { generation: 2 } });
    await reg.publish({ name: "g.0", host: listener.host, port: listener.port, hostName: "h0", meta: { generation: 3 } });
    const found = await lookup;
    assert.equal(found.port, listener.port);
    const link = await dialLink({ name: "g.1", peer: "g.0", run, host: found.host, port: found.port });
    await accepted;
    link.close();
    await assert.rejects(reg.lookup("g.0", { accept: (e) => e.meta.generation === 4, timeoutMs: 300 }), (e) => e instanceof LinkConnectError && /only a stale entry/.test(e.message));
    await assert.rejects(reg.lookup("nobody", { timeoutMs: 200 }), (e) => e instanceof LinkConnectError && /found nothing/.test(e.message));
  } finally {
    await listener.close();
  }
});
