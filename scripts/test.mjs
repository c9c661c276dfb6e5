#!/usr/bin/env node
// Runs the compiled test files with node's built-in test runner.
//   npm test                       every tests/**/*.test.ts
//   npm test -- protocol kernels   only files whose path contains one of the words
// Slow scenarios are skipped unless TROUPE_SLOW=1 (see README).
// Only tests whose .ts source still exists run (dist/ may hold stale output of deleted files).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith("-"));

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
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)));
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

const concurrency = Math.max(2, availableParallelism());
const argv = [
  "--enable-source-maps",
  "--test",
  `--test-concurrency=${concurrency}`,
  "--test-timeout=300000",
  "--test-reporter=spec",
  ...passthrough,
  ...compiled,
];
const r = spawnSync(process.execPath, argv, {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TROUPE_TEST: "1" },
});
process.exit(r.status ?? 1);
