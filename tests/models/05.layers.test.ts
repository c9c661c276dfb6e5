// models - the layering rule: models/ imports only kernels/ and data/ (through their mod.js),
// never hosts/ or NATS; no console output, no TS enum; one errors.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./helpers.js";

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    const p = join(dir, name);
    if (statSync(join(repoRoot, p)).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

test("layers - models imports kernels and data only through their mod.js, and no package but pino", () => {
  const files = sources("models");
  assert.ok(files.length >= 15);
  for (const file of files) {
    const src = readFileSync(join(repoRoot, file), "utf8");
    for (const m of src.matchAll(/(?:import|export)[^"';]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith("node:")) continue;
      if (!spec.startsWith(".")) {
        assert.equal(spec, "pino", `${file} imports the package ${spec}`);
        continue;
      }
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), spec));
      if (target.startsWith("models/")) continue;
      assert.ok(["kernels/mod.js", "data/mod.js"].includes(target), `${file} imports ${target}`);
    }
    assert.doesNotMatch(src, /\bconsole\.|process\.(stdout|stderr)/, `${file} prints`);
    assert.doesNotMatch(src, /^\s*(export\s+)?(const\s+)?enum\s/m, `${file} declares an enum`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith("errors.ts")), ["models/errors.ts"]);
});
