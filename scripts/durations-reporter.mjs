// A node:test reporter that prints nothing and, at the end of the run, merges each test file's
// duration into $TROUPE_TEST_DURATIONS_OUT (JSON: repo-relative source path → seconds).
// scripts/test.mjs --record-durations adds it; scripts/test.mjs starts the longest files first
// from that file (tests/durations.json), so the run does not end on one long file with a core idle.
//
// A file's duration here is the sum of its top-level tests' durations (their hooks included;
// node reports each file's events only when the file is done, so wall times cannot be read
// from the stream). Process start-up is left out; it is about the same for every file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** dist/tests/x/y.test.js (or, with source maps, tests/x/y.test.ts) → tests/x/y.test.ts */
function sourceOf(file) {
  const path = file.startsWith("file://") ? fileURLToPath(file) : file;
  const rel = relative(root, path).replace(/^dist\//, "").replace(/\.js$/, ".ts");
  return rel.startsWith("tests/") ? rel : null;
}

export default async function* durations(source) {
  const ms = new Map();
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { nesting, file, details } = event.data;
    const src = file ? sourceOf(file) : null;
    if (nesting !== 0 || !src || typeof details?.duration_ms !== "number") continue;
    ms.set(src, (ms.get(src) ?? 0) + details.duration_ms);
  }
  const out = process.env.TROUPE_TEST_DURATIONS_OUT;
  if (!out || ms.size === 0) return;
  const recorded = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : {};
  for (const [src, t] of ms) recorded[src] = Math.round(t / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(out, JSON.stringify(sorted, null, 1) + "\n");
  yield "";
}
