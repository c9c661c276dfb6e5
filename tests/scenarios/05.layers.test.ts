// The layering rule for the two folders this issue adds: cli → scenarios → actors → …;
// across folders only through a mod.ts. (Reads the source tree, not dist/.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./paths.js";

function imports(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    if (!name.endsWith(".ts")) continue;
    const file = join(dir, name);
    const src = readFileSync(join(repoRoot, file), "utf8");
    for (const m of src.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"/g)) {
      const spec = m[1]!;
      if (!spec.startsWith(".")) continue;
      out.push({ file, target: relative(repoRoot, resolve(repoRoot, dirname(file), spec)) });
    }
  }
  return out;
}

test("layers - actors/director imports nothing above it and other folders only via mod.js", () => {
  const found = imports("actors/director");
  assert.ok(found.length > 10);
  for (const { file, target } of found) {
    assert.ok(!target.startsWith("scenarios/") && !target.startsWith("cli/"), `${file} imports ${target}`);
    if (!target.startsWith("actors/director/")) assert.match(target, /\/mod\.js$/, `${file} imports ${target}`);
  }
});

test("layers - scenarios imports actors only through actors/director/mod.js, data through data/mod.js, models through models/mod.js (model.hf reads config.json), never cli", () => {
  const found = imports("scenarios");
  for (const { file, target } of found) {
    assert.ok(!target.startsWith("cli/"), `${file} imports ${target}`);
    if (!target.startsWith("scenarios/")) assert.ok(["actors/director/mod.js", "data/mod.js", "models/mod.js"].includes(target), `${file} imports ${target}`);
  }
  assert.ok(found.some((f) => f.target === "actors/director/mod.js"), "the plan type comes from the director");
});
