import { test } from "node:test";
import assert from "node:assert/strict";
import { DisconnectedError, linkState, unlessDisconnected } from "../../hosts/mod.js";
import { nextReconnect, startNats, uniqueName } from "../harness/mod.js";

test("link state - a request in flight when the server goes away fails at once, not at its timeout", async () => {
  await using nats = await startNats();
  const nc = await nats.connect();
  const subject = uniqueName("silent");
  nc.subscribe(subject, { callback: () => {} }); // takes requests, never answers
  await nc.flush();
  const link = linkState(nc);
  assert.equal(link.connected, true);
  const t0 = Date.now();
  const pending = unlessDisconnected(nc, nc.request(subject, "x", { timeout: 20_000 }), "silent request");
  const back = nextReconnect(nc);
  const restart = nats.server.restart();
  await assert.rejects(pending, (e) => e instanceof DisconnectedError && /silent request/.test(e.message));
  assert.ok(Date.now() - t0 < 10_000, "failed on the disconnect, long before the 20 s timeout");
  await restart;
  await back;
  await link.whenConnected();
  assert.equal(link.connected, true);
});
