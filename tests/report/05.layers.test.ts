// actors/report is pure rendering: it reads the director only through its mod.ts, never
// reaches up into scenarios/ or cli/, has no dependency outside node:, and prints nothing itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const dir = "actors/report";
const sources = readdirSync(join(repoRoot, dir))
  .filter((n) => n.endsWith(".ts"))
  .map((n) => ({ file: join(dir, n), src: readFileSync(join(repoRoot, dir, n), "utf8") }));

test("report - imports only its own files, the director's mod.js and node: built-ins", () => {
  assert.ok(sources.length >= 10);
  for (const { file, src } of sources) {
    for (const m of src.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"/g)) {
      const spec = m[1]!;
      if (spec.startsWith("node:")) continue;
      assert.ok(spec.startsWith("."), `${file} imports the package ${spec} (no new dependencies)`);
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      if (!target.startsWith(`${dir}/`)) assert.equal(target, "actors/director/mod.js", `${file} imports ${target}`);
    }
  }
});

test("report - library code writes no console output and uses no enum", () => {
  for (const { file, src } of sources) {
    assert.doesNotMatch(src, /\bconsole\.|process\.(stdout|stderr)/, `${file} prints`);
    assert.doesNotMatch(src, /^\s*(export\s+)?(const\s+)?enum\s/m, `${file} declares an enum`);
  }
});
