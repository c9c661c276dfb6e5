// kernels - verify passes every correct PyTorch fixture: one python process writes fixtures for
// many seeds at the shared config, at odd sizes with ignored targets and an untied head, and
// at a larger size, and every one must pass every check. Needs torch: skipped with the reason
// on a machine without it, failed when CI is set (setup installs python3-torch as root).
// `troupe verify --sweep` runs the full 3 × 50 seeds. guards #14 (item 1)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testNeeding } from "../harness/needs.js";
import { K, fixturesDir, repoRoot } from "./helpers.js";

const python = process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

testNeeding("verify-sweep - every fixture the generator writes passes (seeds 1-50 shared, 1-25 odd, 1-3 large)", K.torchMissing(python), async () => {
  // Seed 13 at the shared config is one the old absolute 1e-5 on after_params failed (33 of the
  // full sweep's 150 failed it). The CLI sweep runs 50 seeds of each size; this keeps to seconds.
  const plan = { shared: seeds(50), odd: seeds(25), large: seeds(3) };
  const r = await K.runSweep({ python, generator: join(repoRoot, "scripts", "dev", "make_gpt_fixture.py"), seeds: plan });
  assert.deepEqual(r.failed, []);
  assert.equal(r.fixtures, 78);
  assert.equal(r.passed, 78);
  for (const [k, w] of Object.entries(r.worst)) {
    assert.ok(w.fixture !== null, `${k} compared nothing`);
    assert.ok(w.worst_ratio <= 1, `${k}: ${w.worst_ratio} of its bound at ${w.fixture} ${w.where}`);
  }
  assert.ok(r.small_grad_elements > 0);
  const margins = Object.entries(r.worst).map(([k, w]) => `${k} ${w.margin.toPrecision(2)}×`).join(", ");
  process.stderr.write(`[verify-sweep] ${r.passed}/${r.fixtures} passed in ${r.seconds.toFixed(1)} s; margins ${margins}\n`);
});

/** A stand-in generator (run by node, not python) that copies the given fixtures in order. */
function fakeGenerator(dir: string, sources: readonly string[], exitCode = 0): string {
  const file = join(dir, "fake-generator.mjs");
  writeFileSync(file, `
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
const specs = JSON.parse(readFileSync(0, "utf8"));
const sources = ${JSON.stringify(sources)};
specs.slice(0, sources.length).forEach((s, i) => {
  const out = join(process.argv[3], s.name + ".safetensors");
  copyFileSync(sources[i], out);
  console.log(JSON.stringify({ wrote: out, torch: "fake" }));
});
if (${exitCode}) { console.error("boom"); process.exit(${exitCode}); }
`);
  return file;
}

test("verify-sweep - a fixture that fails is reported by name and check, and the sweep is not ok", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-sweep-test-"));
  try {
    const good = join(fixturesDir, "gpt_odd.safetensors");
    const fx = K.readSafetensors(good);
    fx.tensors.get("grad.h.1.fc.weight")!.f32()[9]! *= -1;
    const bad = join(dir, "bad.safetensors");
    K.writeSafetensors(bad, fx.tensors, fx.metadata);
    const r = await K.runSweep({ python: process.execPath, generator: fakeGenerator(dir, [good, bad]), seeds: { odd: [1, 2] } });
    assert.equal(r.ok, false);
    assert.equal(r.fixtures, 2);
    assert.equal(r.passed, 1);
    assert.equal(r.failed.length, 1);
    assert.equal(r.failed[0]!.fixture, "odd-seed2");
    assert.match(r.failed[0]!.reason, /^grads \S+× its bound at grad\.h\.1\.fc\.weight\[9\]$/);
    assert.ok(r.worst.grads.worst_ratio > 1 && r.worst.grads.fixture === "odd-seed2");
    assert.equal(r.torch, "fake");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verify-sweep - a generator that stops early or cannot start is a GeneratorError", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-sweep-test-"));
  try {
    const good = join(fixturesDir, "gpt_odd.safetensors");
    await assert.rejects(
      K.runSweep({ python: process.execPath, generator: fakeGenerator(dir, [good], 3), seeds: { odd: [1, 2, 3] } }),
      (e: unknown) => K.isGeneratorError(e) && /exited with 3: boom/.test((e as Error).message),
    );
    await assert.rejects(
      K.runSweep({ python: process.execPath, generator: fakeGenerator(dir, [good]), seeds: { odd: [1, 2] } }),
      (e: unknown) => K.isGeneratorError(e) && /wrote 1 of 2 fixtures/.test((e as Error).message),
    );
    await assert.rejects(
      K.runSweep({ python: "/nonexistent/python3", generator: "x.py", seeds: { odd: [1] } }),
      (e: unknown) => K.isGeneratorError(e) && /could not run: spawn \/nonexistent\/python3 ENOENT/.test((e as Error).message),
    );
    await assert.rejects(K.runSweep({ python: process.execPath, generator: "x", seeds: { huge: [1] } }), /unknown sweep size "huge"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
