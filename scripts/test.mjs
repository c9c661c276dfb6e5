#!/usr/bin/env node
// Runs the compiled test files with node's built-in test runner.
//   npm test                       every tests/**/*.test.ts
//   npm test -- protocol kernels   only files whose path contains one of the words
//   npm test -- --record-durations record each file's duration in tests/durations.json
// Files start longest first, by tests/durations.json (files not in it first of all): with two
// at a time, the run does not end on one long file with the other core idle. (scripts/
// test-files.mjs runs them through node:test's run(), which keeps that order.)
// Slow scenarios are skipped unless TROUPE_SLOW=1 (see README).
// Only tests whose .ts source still exists run (dist/ may hold stale output of deleted files).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RECORD = "--record-durations";
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith("-") && a !== RECORD);
const record = process.argv.includes(RECORD);
const durationsFile = join(root, "tests", "durations.json");
/** recorded seconds per source file; unknown files count as longest (they may be heavy) */
const durations = existsSync(durationsFile) ? JSON.parse(readFileSync(durationsFile, "utf8")) : {};
const expected = (p) => durations[p] ?? Infinity;

function walk(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const sources = walk(join(root, "tests"))
  .map((p) => relative(root, p))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  .sort((a, b) => expected(b) - expected(a) || (a < b ? -1 : 1));
const compiled = sources.map((p) => join(root, "dist", p.replace(/\.ts$/, ".js")));
const missing = compiled.filter((p) => !existsSync(p));
if (missing.length > 0) {
  process.stderr.write(`[test] not compiled (run npm run build): ${missing.join(", ")}\n`);
  process.exit(1);
}
if (compiled.length === 0) {
  process.stderr.write(`[test] no test files match ${filters.join(" ")}\n`);
  process.exit(1);
}

// options for node's runner: --test-timeout=MS (default 300000, per file and per test),
// --test-name-pattern=RE (repeatable), --test-only
const unknown = passthrough.filter((a) => !/^--test-(timeout|name-pattern)=/.test(a) && a !== "--test-only");
if (unknown.length > 0) {
  process.stderr.write(`[test] unknown option(s) ${unknown.join(" ")}: takes --test-timeout=MS, --test-name-pattern=RE, --test-only, ${RECORD}\n`);
  process.exit(2);
}
const valueOf = (name) => passthrough.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const options = {
  files: compiled,
  concurrency: Math.max(2, availableParallelism()),
  timeout: Number(valueOf("test-timeout").pop() ?? 300_000),
  testNamePatterns: valueOf("test-name-pattern"),
  only: passthrough.includes("--test-only"),
  durationsFile: record ? durationsFile : null,
};
// the pretrained bases the files of this run share (tests/harness/bases.ts), gone with the run
// (unless TROUPE_TEST_BASES names a folder to keep them in, e.g. to look at them)
const ownBases = !process.env.TROUPE_TEST_BASES;
const bases = process.env.TROUPE_TEST_BASES || mkdtempSync(join(tmpdir(), "troupe-test-bases-"));
process.on("SIGINT", () => {}); // Ctrl-C reaches the runner's group; wait for it, then clean up
const r = spawnSync(process.execPath, ["--enable-source-maps", join(root, "scripts", "test-files.mjs"), JSON.stringify(options)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TROUPE_TEST: "1", TROUPE_TEST_BASES: bases },
});
if (ownBases) rmSync(bases, { recursive: true, force: true });
process.exit(r.status ?? 1);
