// cli - troupe verify: JSON report and exit codes (0 ok, 1 not ok, 2 usage), and --sweep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { torchMissing } from "../../kernels/mod.js";
import { testNeeding } from "../harness/needs.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const fixture = fileURLToPath(new URL("../../../tests/kernels/fixtures/gpt_odd.safetensors", import.meta.url));
const verify = (...args: string[]) => spawnSync(process.execPath, [main, "verify", ...args], { encoding: "utf8" });

test("cli - verify --json prints the report and exits 0 when within its bounds", () => {
  const r = verify(fixture, "--json");
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as K;
  assert.equal(report.ok, true);
  assert.equal(report.config.vocab_size, 37);
  const kinds = ["logits", "loss", "grads", "train_losses", "after_params", "after_small_grad"];
  assert.deepEqual(Object.keys(report.max_abs_diff), kinds);
  assert.deepEqual(Object.keys(report.checks), kinds);
  for (const k of kinds) assert.ok(report.checks[k]!.worst_ratio <= 1, k);
  assert.ok(report.bounds.relative > 0 && report.bounds.relative < 1e-5);
});
type K = { ok: boolean; config: { vocab_size: number }; max_abs_diff: Record<string, number>; checks: Record<string, { worst_ratio: number }>; bounds: { relative: number } };

test("cli - verify prints each check against its bound", () => {
  const r = verify(fixture);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^grads +max \|diff\| \S+, worst \S+ of its bound \(grad\.\S+\]\)  ok$/m);
  assert.match(r.stdout, /^after_small_grad +\d+ elements, /m);
  assert.match(r.stdout, /^ok$/m);
});

test("cli - verify usage errors exit 2, a malformed file too (#10)", () => {
  const missing = verify("/nonexistent.safetensors");
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file or directory: \/nonexistent.safetensors/);
  const bad = verify(main);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a valid safetensors file/);
  assert.doesNotMatch(bad.stderr, /Error:/);
  for (const [args, re] of [
    [[], /give a fixture file, a model or adapter directory, or --sweep/],
    [["--sweep", fixture], /--sweep makes its own fixtures; give no path/],
    [["--sweep", "--seeds", "1-x"], /--seeds must look like 1-50 or 1,4,7-9, got "1-x"/],
    [["--sweep", "--sizes", "huge"], /--sizes: unknown size "huge" \(known: shared, odd, large\)/],
    [[fixture, "--seeds", "3"], /--seeds, --sizes and --python go with --sweep/],
    [["--sweep", "--python", "/nonexistent/python3"], /--sweep needs PyTorch: \/nonexistent\/python3 cannot run/],
  ] as const) {
    const r = verify(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

const python = process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
testNeeding("cli - verify --sweep --json generates fixtures with PyTorch and verifies each", torchMissing(python), () => {
  const r = verify("--sweep", "--seeds", "1,2", "--sizes", "odd", "--json");
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { ok: boolean; fixtures: number; passed: number; sizes: Record<string, { seeds: number[] }>; worst: Record<string, { fixture: string }> };
  assert.equal(s.ok, true);
  assert.equal(s.fixtures, 2);
  assert.equal(s.passed, 2);
  assert.deepEqual(s.sizes.odd!.seeds, [1, 2]);
  assert.match(s.worst.grads!.fixture, /^odd-seed[12]$/);
});
