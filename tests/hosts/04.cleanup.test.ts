import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { check } from "../harness/mod.js";

const OWNER = fileURLToPath(new URL("./fixtures/owner.js", import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startOwner() {
  const p = spawn(process.execPath, [OWNER], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
  const line = await new Promise<string>((resolve) => {
    let buf = "";
    p.stdout.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) resolve(buf.split("\n")[0]!);
    });
  });
  const info = JSON.parse(line) as { serverPid: number; storeDir: string };
  return { p, exited, ...info };
}

test("cleanup - SIGINT to the owning process stops the server and removes its temp dirs", async () => {
  const o = await startOwner();
  assert.ok(alive(o.serverPid) && existsSync(o.storeDir));
  o.p.kill("SIGINT");
  assert.equal(await o.exited, 130, "exits like a shell would on SIGINT");
  assert.equal(existsSync(o.storeDir), false);
  await check(() => !alive(o.serverPid), { what: "the killed server to be reaped" });
});

test("cleanup - kill -9 of the owning process stops the server and removes its temp store from the server's side", { skip: process.platform !== "linux" && "needs setpriv --pdeathsig (Linux)" }, async () => {
  // guards #16 item 8: the temp store used to survive until the next launch swept it
  const o = await startOwner();
  assert.ok(existsSync(o.storeDir));
  o.p.kill("SIGKILL");
  await o.exited;
  await check(() => !alive(o.serverPid), { what: "the orphaned server to stop" });
  await check(() => !existsSync(o.storeDir), { what: "the orphaned server's temp store to be removed" });
});
