// The cast's folders sit in the actors layer: nothing from scenarios/ or cli/, other layers
// only through their mod.ts, no console output, no enum. (Reads the source tree.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const folders = ["actors/cast", "actors/trainer", "actors/teacher", "actors/evaluator"];

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir)).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(join(repoRoot, p)).isDirectory()) return sources(p);
    return n.endsWith(".ts") ? [p] : [];
  });
}

test("cast layers - imports point down, across layers only through mod.js; actors/director stays free of NATS", () => {
  const files = folders.flatMap(sources);
  assert.ok(files.length >= 20, `${files.length} files`);
  for (const file of files) {
    const src = readFileSync(join(repoRoot, file), "utf8");
    assert.doesNotMatch(src, /\bconsole\./, `${file} prints`);
    assert.doesNotMatch(src, /^\s*(export\s+)?(const\s+)?enum\s/m, `${file} declares an enum`);
    for (const m of src.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"/g)) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) continue;
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      assert.ok(!target.startsWith("scenarios/") && !target.startsWith("cli/"), `${file} imports ${target}`);
      const layer = target.split("/")[0]!;
      if (layer !== "actors") assert.match(target, /\/mod\.js$/, `${file} imports ${target}`);
    }
  }
  for (const file of sources("actors/director")) {
    const src = readFileSync(join(repoRoot, file), "utf8");
    assert.doesNotMatch(src, /@nats-io|hosts\/mod|actors\/cast|\.\.\/cast\//, `${file} reaches for NATS or the cast`);
  }
});
