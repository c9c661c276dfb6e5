// kernels - the whole kernel suite again with the portable kernels and no BLAS
// (TROUPE_KERNELS=portable TROUPE_BLAS=0): the path Apple Silicon and CPUs without AVX take.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

test("portable - every kernels test passes with TROUPE_KERNELS=portable TROUPE_BLAS=0", { skip: process.env.TROUPE_KERNELS === "portable" ? "already running portable" : false }, () => {
  const files = readdirSync(here)
    .filter((f) => /^\d\d\..*\.test\.js$/.test(f) && !f.startsWith("95."))
    .map((f) => join(here, f));
  // a fresh test runner, not a child of ours (NODE_TEST_CONTEXT would make it report to us)
  const env: NodeJS.ProcessEnv = { ...process.env, TROUPE_KERNELS: "portable", TROUPE_BLAS: "0" };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], { env, encoding: "utf8", timeout: 240_000 });
  const failed = r.stdout.split("\n").filter((l) => /^\s*not ok /.test(l));
  assert.equal(r.status, 0, `portable run failed:\n${failed.join("\n")}\n${r.stdout.slice(-4000)}\n${r.stderr}`);
  const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
  assert.ok(pass >= 200, `the portable run executed ${pass} tests`);
});
