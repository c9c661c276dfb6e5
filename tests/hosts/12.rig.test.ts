// The multi-host rig (needs root): namespaces that reach each other and NATS, CPU pinning,
// tbf shaping that visibly limits a link, a pulled cable declared dead by link heartbeats, and
// the sweep of a SIGKILLed owner's leftovers. guards #13
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRig, sweepRigs } from "../../hosts/mod.js";
import { check, rigSkip, startRig, uniqueName } from "../harness/mod.js";

const END = fileURLToPath(new URL("./fixtures/link-end.js", import.meta.url));
const skip = rigSkip();
const namespaces = () => execFileSync("ip", ["netns", "list"], { encoding: "utf8" });

test("rig - two hosts reach each other over the data link, reach nats-server, and run pinned to their own core", { skip }, async () => {
  await using rig = await startRig({ hosts: 2 });
  const run = uniqueName("r");
  const [h0, h1] = rig.hosts;
  const listener = rig.node(1, END, [JSON.stringify({ role: "listen", name: "b", run, host: h1!.dataAddress })]);
  const l = await listener.line((x) => x.listening === true, "listening");
  const dialer = rig.node(0, END, [JSON.stringify({ role: "dial", name: "a", peer: "b", run, host: h1!.dataAddress, port: l.port })]);
  const d = await dialer.line((x) => x.linked === "b", "the link");
  assert.equal(d.cpus, h0!.cpus.join(","), "host 0's process runs on host 0's cores");
  assert.equal(l.cpus, h1!.cpus.join(","));
  // nats-server listens on the control bridge; a namespace reaches it there
  const probe = rig.spawn(0, process.execPath, ["-e", `import("${fileURLToPath(new URL("../../hosts/mod.js", import.meta.url))}").then(async (H) => { const nc = await H.connectNats("${rig.nats.url}"); console.log(JSON.stringify({ ok: nc.info?.server_id !== undefined })); await nc.close(); })`], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  probe.stdout!.on("data", (x: Buffer) => (out += x.toString()));
  await check(() => out.includes('"ok":true'), { what: "a NATS connection from inside host 0" });
});

test("rig - tbf shaping limits the data link, and removing it lifts the limit", { skip }, async () => {
  await using rig = await startRig({ hosts: 2, rate: "80mbit" });
  const run = uniqueName("r");
  const measure = async (mb: number) => {
    const listener = rig.node(1, END, [JSON.stringify({ role: "listen", name: "b", run, host: rig.hosts[1]!.dataAddress, expectMb: mb })]);
    const l = await listener.line((x) => x.listening === true, "listening");
    rig.node(0, END, [JSON.stringify({ role: "stream", name: "a", peer: "b", run, host: rig.hosts[1]!.dataAddress, port: l.port, mb })]);
    const done = await listener.line((x) => typeof x.done === "number", "all bytes");
    listener.child.kill("SIGKILL");
    return (done.done as number) / (done.seconds as number) / 1e6;
  };
  // 24 MB: the fixed extra (the 256 KB burst, the queue, the first bytes before the clock starts)
  // is a small share of it, so the rate read is the shaped one
  const shaped = await measure(24);
  assert.ok(shaped <= 10 * 1.1, `80mbit = 10 MB/s; measured ${shaped.toFixed(1)} MB/s`);
  rig.shape(null);
  const free = await measure(64);
  assert.ok(free > 2 * shaped, `unshaped ${free.toFixed(1)} MB/s, more than twice the shaped ${shaped.toFixed(1)} MB/s`);
});

test("rig - a pulled cable (link down: no FIN, no RST) is declared dead by link heartbeats within the bound", { skip }, async () => {
  await using rig = await startRig({ hosts: 2 });
  const run = uniqueName("r");
  const timing = { heartbeatMs: 100, deadAfterMs: 800 };
  const listener = rig.node(1, END, [JSON.stringify({ role: "listen", name: "b", run, host: rig.hosts[1]!.dataAddress, ...timing })]);
  const l = await listener.line((x) => x.listening === true, "listening");
  const dialer = rig.node(0, END, [JSON.stringify({ role: "dial", name: "a", peer: "b", run, host: rig.hosts[1]!.dataAddress, port: l.port, ...timing })]);
  await dialer.line((x) => x.linked === "b", "the link");
  const t0 = performance.now();
  rig.setLink(1, false);
  const closed = await dialer.line((x) => typeof x.closed === "string", "the dialer noticing", 10_000);
  const ms = performance.now() - t0;
  assert.equal(closed.closed, "LinkPeerDeadError", String(closed.message));
  assert.ok(ms < timing.deadAfterMs + 1500, `declared dead after ${ms.toFixed(0)} ms (bound ${timing.deadAfterMs} ms + process start slack)`);
});

test("rig - destroy removes every namespace; a SIGKILLed owner's rig is swept by the next run", { skip }, async () => {
  const rig = createRig({ hosts: 3 });
  const mine = rig.hosts.map((h) => h.namespace);
  assert.ok(mine.every((n) => namespaces().includes(n)));
  rig.destroy();
  assert.ok(mine.every((n) => !namespaces().includes(n)), "destroy removed them");
  // a child builds a rig and is killed before it can clean up
  const hosts = fileURLToPath(new URL("../../hosts/mod.js", import.meta.url));
  const child = spawn(process.execPath, ["-e", `import("${hosts}").then((H) => { const r = H.createRig({ hosts: 2 }); console.log(JSON.stringify(r.hosts.map((h) => h.namespace))); setInterval(() => {}, 1e6); })`], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (x: Buffer) => (out += x.toString()));
  const left = await check(() => (out.includes("]") ? (JSON.parse(out) as string[]) : null), { what: "the child's rig" });
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.ok(left.every((n) => namespaces().includes(n)), "the killed owner left its namespaces behind");
  const swept = sweepRigs();
  assert.deepEqual([...swept.namespaces].sort(), [...left].sort());
  assert.ok(left.every((n) => !namespaces().includes(n)), "the sweep removed them");
  assert.ok(swept.claims.length >= 1, "and released its subnet");
});
