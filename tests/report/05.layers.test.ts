// report/ is its own layer, between cli/ and actors/ (cli → report → scenarios → actors → …):
// it reads the director and the cast only through their mod.ts, never reaches up into
// scenarios/ or cli/, has no dependency outside node:, and prints nothing itself. Nothing in
// actors/ (or below) imports it: the runtime gets the report writer passed in from above.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const dir = "report";

function tree(d: string): string[] {
  return readdirSync(join(repoRoot, d)).flatMap((n) => {
    const p = join(d, n);
    if (statSync(join(repoRoot, p)).isDirectory()) return tree(p);
    return n.endsWith(".ts") ? [p] : [];
  });
}

const sources = tree(dir).map((file) => ({ file, src: readFileSync(join(repoRoot, file), "utf8") }));
const importsOf = (src: string) => [...src.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)].map((m) => (m[1] ?? m[2])!);

test("report - imports only its own files, the director's and the cast's mod.js and node: built-ins", () => {
  assert.ok(sources.length >= 10);
  for (const { file, src } of sources) {
    for (const spec of importsOf(src)) {
      if (spec.startsWith("node:")) continue;
      assert.ok(spec.startsWith("."), `${file} imports the package ${spec} (no new dependencies)`);
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      if (!target.startsWith(`${dir}/`)) assert.ok(["actors/director/mod.js", "actors/cast/mod.js"].includes(target), `${file} imports ${target}`);
    }
  }
});

test("report - no layer below it imports it (actors, hosts, models, data, kernels, protocol, scenarios)", () => {
  const below = ["scenarios", "actors", "hosts", "models", "data", "kernels", "protocol"].flatMap(tree);
  assert.ok(below.length > 100);
  for (const file of below) {
    for (const spec of importsOf(readFileSync(join(repoRoot, file), "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      assert.ok(!target.startsWith("report/"), `${file} imports ${target}, above it`);
    }
  }
});

test("report - library code writes no console output and uses no enum", () => {
  for (const { file, src } of sources) {
    assert.doesNotMatch(src, /\bconsole\.|process\.(stdout|stderr)/, `${file} prints`);
    assert.doesNotMatch(src, /^\s*(export\s+)?(const\s+)?enum\s/m, `${file} declares an enum`);
  }
});
