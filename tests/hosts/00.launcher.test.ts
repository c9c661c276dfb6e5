import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats, isNatsServerError, startNatsServer } from "../../hosts/mod.js";
import { nextReconnect, uniqueName } from "../harness/mod.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("launcher - starts JetStream on an ephemeral loopback port with an 8 MiB max_payload", async () => {
  await using server = await startNatsServer();
  assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(server.port > 0);
  const nc = await connectNats(server);
  try {
    assert.equal(nc.info?.max_payload, 8 * 1024 * 1024);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    assert.equal(typeof info.streams, "number");
  } finally {
    await nc.close();
  }
});

test("launcher - stop ends the process and removes the temporary store", async () => {
  const server = await startNatsServer();
  const { pid, storeDir } = server;
  assert.ok(storeDir && existsSync(storeDir));
  await server.stop();
  assert.equal(alive(pid), false);
  assert.equal(existsSync(storeDir!), false);
});

test("launcher - restart comes back on the same port with the same store; clients reconnect", async () => {
  await using server = await startNatsServer();
  const nc = await connectNats(server);
  try {
    const jsm = await jetstreamManager(nc);
    const stream = uniqueName("S");
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await jsm.jetstream().publish(`${stream}.a`, "one");
    const { port, pid } = server;
    let back = nextReconnect(nc);
    await server.restart();
    assert.equal(server.port, port);
    assert.notEqual(server.pid, pid);
    await back; // the old connection finds the server again by itself
    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, 1);
    back = nextReconnect(nc);
    await server.kill(); // a crash this time
    assert.equal(server.running, false);
    await server.restart();
    await back;
    const after = await jsm.streams.info(stream);
    assert.equal(after.state.messages, 1);
  } finally {
    await nc.close();
  }
});

test("launcher - a server that cannot start says why (port in use)", async () => {
  await using first = await startNatsServer();
  await assert.rejects(
    startNatsServer({ port: first.port, startTimeoutMs: 10_000 }),
    (e) => isNatsServerError(e) && e.code === "NATS_SERVER_EXITED" && /address already in use/i.test(e.message),
  );
});

test("launcher - a missing binary is reported with the fixes", async () => {
  await assert.rejects(
    startNatsServer({ bin: "no-such-nats-server-binary" }),
    (e) => isNatsServerError(e) && e.code === "NATS_NOT_ON_PATH" && /apt-get install nats-server/.test(e.message) && /--nats URL/.test(e.message),
  );
});
