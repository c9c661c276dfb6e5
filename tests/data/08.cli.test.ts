import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const troupe = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });

test("data - troupe data pack writes the selected domains as JSONL and inspect reports bad lines", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-cli-data-"));
  try {
    const out = join(dir, "pack.jsonl");
    const r = troupe("data", "pack", "--out", out, "--domains", "copying,sorting", "--train", "12", "--held-out", "3", "--seed", "5", "--json");
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.records, 60);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    assert.equal(lines.length, 60);
    assert.ok(lines.every((l) => ["copying", "sorting"].includes(JSON.parse(l).metadata.domain)));

    appendFileSync(out, '{"prompt":"x"}\nnot json\n');
    const i = troupe("data", "inspect", out, "--json");
    assert.equal(i.status, 0, i.stderr);
    const report = JSON.parse(i.stdout);
    assert.equal(report.records, 60);
    assert.deepEqual(report.by_domain, { copying: 30, sorting: 30 });
    assert.deepEqual(report.by_split, { train: 48, heldout: 12 });
    assert.equal(report.skipped.count, 2);
    assert.deepEqual(report.skipped.first.map((e: { line: number }) => e.line), [61, 62]);
    assert.equal(report.lanes.sft.kept.train, 60);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("data - troupe data pack rejects an unknown domain as a usage error", () => {
  const r = troupe("data", "pack", "--out", join(tmpdir(), "never-written.jsonl"), "--domains", "poetry");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown domain "poetry"/);
});
