// The child of scripts/test.mjs: runs the given test files, in the given order, with node's test
// runner (run() keeps the order; `node --test FILES` sorts them by name) and its spec reporter,
// and with --record-durations merges each file's duration into tests/durations.json.
//   node --enable-source-maps scripts/test-files.mjs '<JSON options>'
// Each file runs in its own process with this process's node options (--enable-source-maps).
//
// A file's duration is its wall time, start-up included: the test:complete event of the file
// itself (named by its path; its tests' events name where test() was called, which may be a
// helper such as tests/harness/needs.ts).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const o = JSON.parse(process.argv[2]);

/** dist/tests/x/y.test.js (or, with source maps, tests/x/y.test.ts) → tests/x/y.test.ts */
function sourceOf(file) {
  const path = file.startsWith("file://") ? fileURLToPath(file) : file;
  const rel = relative(root, path).replace(/^dist\//, "").replace(/\.js$/, ".ts");
  return rel.startsWith("tests/") ? rel : null;
}

const reporter = new spec();
reporter.pipe(process.stdout);
const printed = new Promise((resolve) => reporter.on("end", resolve));
const ms = new Map();
const stream = run({
  files: o.files,
  concurrency: o.concurrency,
  timeout: o.timeout,
  ...(o.testNamePatterns.length ? { testNamePatterns: o.testNamePatterns } : {}),
  ...(o.only ? { only: true } : {}),
});
for await (const event of stream) {
  reporter.write(event);
  const { name, nesting, file, details, todo } = event.data;
  if (event.type === "test:fail" && !todo) process.exitCode = 1;
  if (event.type !== "test:complete" || nesting !== 0 || !file || name !== file) continue;
  const src = sourceOf(file);
  if (src && typeof details?.duration_ms === "number") ms.set(src, details.duration_ms);
}
reporter.end();
await printed;

if (o.durationsFile && ms.size > 0) {
  const recorded = existsSync(o.durationsFile) ? JSON.parse(readFileSync(o.durationsFile, "utf8")) : {};
  for (const [src, t] of ms) recorded[src] = Math.round(t / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(o.durationsFile, JSON.stringify(sorted, null, 1) + "\n");
}
