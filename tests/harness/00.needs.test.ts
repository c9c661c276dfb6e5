// harness - a test whose prerequisite is missing is skipped with its reason on a developer's
// machine and fails when CI is set; present, it runs. guards #14 (item 7)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const needs = pathToFileURL(join(import.meta.dirname, "needs.js")).href;

/** Runs a test file using testNeeding and skipUnlessCI under `env`; returns exit code and output. */
function runWith(ci: string | undefined): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "troupe-needs-"));
  try {
    const file = join(dir, "probe.test.mjs");
    writeFileSync(file, [
      `import { testNeeding } from ${JSON.stringify(needs)};`,
      `testNeeding("present", null, () => {});`,
      `testNeeding("absent", "/nowhere/fixture.safetensors not found", () => { throw new Error("the body ran"); });`,
    ].join("\n"));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI;
    delete env.NODE_TEST_CONTEXT; // a test file of its own, not a child of this run
    if (ci !== undefined) env.CI = ci;
    const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { encoding: "utf8", env });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("needs - without CI a missing prerequisite skips the test with its reason", () => {
  for (const ci of [undefined, "", "0", "false"]) {
    const r = runWith(ci);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /ok 2 - absent # SKIP \/nowhere\/fixture\.safetensors not found/);
    assert.match(r.out, /\[skip\] \/nowhere\/fixture\.safetensors not found/);
  }
});

test("needs - with CI set the same test fails, naming what is missing; present ones still pass", () => {
  for (const ci of ["true", "1"]) {
    const r = runWith(ci);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /ok 1 - present/);
    assert.match(r.out, /not ok 2 - absent/);
    assert.match(r.out, /CI is set, so a missing prerequisite fails instead of skipping: \/nowhere\/fixture\.safetensors not found/);
    assert.doesNotMatch(r.out, /the body ran/);
  }
});
