// cli - troupe verify: JSON report and exit codes (0 ok, 1 not ok, 2 usage).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const fixture = fileURLToPath(new URL("../../../tests/kernels/fixtures/gpt_odd.safetensors", import.meta.url));

test("cli - verify --json prints the report and exits 0 when within tolerance", () => {
  const r = spawnSync(process.execPath, [main, "verify", fixture, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; config: { vocab_size: number }; max_abs_diff: Record<string, number> };
  assert.equal(report.ok, true);
  assert.equal(report.config.vocab_size, 37);
  assert.deepEqual(Object.keys(report.max_abs_diff), ["logits", "loss", "grads", "train_losses", "after_params"]);
});

test("cli - verify of a missing file is a usage error (exit 2); a malformed one fails (exit 1)", () => {
  const missing = spawnSync(process.execPath, [main, "verify", "/nonexistent.safetensors"], { encoding: "utf8" });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file or directory: \/nonexistent.safetensors/);
  const bad = spawnSync(process.execPath, [main, "verify", main], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /FormatError: .* not a valid safetensors file/);
});
