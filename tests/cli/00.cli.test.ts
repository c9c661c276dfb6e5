import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

test("cli - --help exits 0 and names the program", () => {
  const r = spawnSync(process.execPath, [main, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: troupe/);
});

test("cli - an unknown command is a usage error (exit 2)", () => {
  const r = spawnSync(process.execPath, [main, "no-such-command"], { encoding: "utf8" });
  assert.equal(r.status, 2);
});
