// models - the CLI: `troupe train` (text and pack), resuming past a corrupted checkpoint,
// usage errors, `troupe generate`, and `troupe chaos resume` (kill -9 + resume, bitwise).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, tempDir, toyText } from "./helpers.js";

function troupe(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/cli/main.js"), ...args], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const SMALL = ["--embd", "32", "--layers", "1", "--heads", "2", "--block", "16", "--batch", "4"];

test("cli - troupe train on a text file, resume past a corrupt checkpoint, then generate", () => {
  using dir = tempDir();
  const data = join(dir.path, "toy.txt");
  writeFileSync(data, toyText());
  const out = join(dir.path, "runs");
  const first = troupe(["train", "--data", data, "--steps", "30", "--checkpoint-every", "10", "--out", out, ...SMALL, "--json"]);
  assert.equal(first.code, 0, first.stderr);
  const r = first.json();
  for (const k of ["train_loss", "val_loss", "tokens_per_s", "steps"]) assert.equal(typeof r[k], "number", k);
  assert.equal(r.steps, 30);
  assert.ok(r.val_loss < Math.log(256), "learned something");
  assert.match(r.checkpoint, /runs\/toy\/checkpoints\/train\/step-00000030$/);

  const again = troupe(["train", "--data", data, "--steps", "30", "--out", out, ...SMALL, "--json"]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already has checkpoints \(up to step 30\); pass --resume to continue, --force to start over/);

  truncateSync(join(r.checkpoint, "model.safetensors"), 64);
  const resumed = troupe(["train", "--data", data, "--steps", "40", "--checkpoint-every", "10", "--out", out, ...SMALL, "--resume", "--json"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.json().resumed_from, 20, "the previous good checkpoint");
  assert.match(resumed.stderr, /refused a bad checkpoint/);
  assert.match(resumed.stderr, /model\.safetensors: has 64 bytes, the manifest says \d+ \(truncated\)/);

  const gen = troupe(["generate", "--checkpoint", join(out, "toy"), "--prompt", "the ", "--tokens", "24", "--json"]);
  assert.equal(gen.code, 0, gen.stderr);
  const g = gen.json();
  assert.equal(g.tokens, 24);
  assert.equal(typeof g.text, "string");
  assert.match(g.checkpoint, /step-00000040$/);
});

test("cli - troupe train on JSONL: bad lines are skipped and counted, the loss is masked to responses", () => {
  using dir = tempDir();
  const data = join(dir.path, "pairs.jsonl");
  const good = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `say ${i}`, response: `${i}`, metadata: { split: i < 32 ? "train" : "heldout" } }));
  writeFileSync(data, [...good.slice(0, 10), "{not json", JSON.stringify({ prompt: "no response" }), ...good.slice(10)].join("\n") + "\n");
  const r = troupe(["train", "--data", data, "--steps", "4", "--out", join(dir.path, "runs"), ...SMALL, "--block", "24", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.json();
  assert.deepEqual({ train: out.records.train, held_out: out.records.held_out, skipped: out.records.skipped_lines }, { train: 32, held_out: 8, skipped: 2 });
  assert.deepEqual(out.records.skipped_by_reason, { "invalid JSON": 1, "missing response": 1 });
  assert.equal(typeof out.exact_match, "number");
});

test("cli - troupe train refuses bad input with usage errors", () => {
  using dir = tempDir();
  assert.equal(troupe(["train", "--data", join(dir.path, "missing.txt")]).code, 2);
  const noBase = troupe(["train", "--data", "pack:copying", "--lora", "4"]);
  assert.equal(noBase.code, 2);
  assert.match(noBase.stderr, /--lora needs --model DIR or --base CHECKPOINT/);
  const badSteps = troupe(["train", "--data", "pack:copying", "--steps", "-3"]);
  assert.equal(badSteps.code, 2);
  const badDomain = troupe(["train", "--data", "pack:nonsense", "--steps", "1", "--out", join(dir.path, "r")]);
  assert.equal(badDomain.code, 2, "an unknown domain is bad input (guards #10)");
  assert.match(badDomain.stderr, /--data pack:nonsense: unknown domain "nonsense"/);
});

test("cli - troupe train --lora on a pack domain reports base and adapted exact match and saves the adapter", () => {
  using dir = tempDir();
  const out = join(dir.path, "runs");
  const base = troupe(["train", "--data", "pack:copying", "--steps", "20", "--out", out, "--run", "base", ...SMALL, "--block", "48", "--json"]);
  assert.equal(base.code, 0, base.stderr);
  assert.equal(typeof base.json().exact_match, "number");
  const lora = troupe(["train", "--data", "pack:copying", "--lora", "2", "--base", join(out, "base"), "--steps", "10", "--out", out, "--run", "adapter", "--batch", "4", "--json"]);
  assert.equal(lora.code, 0, lora.stderr);
  const r = lora.json();
  assert.equal(typeof r.base_exact_match, "number");
  assert.equal(typeof r.adapted_exact_match, "number");
  assert.ok(r.held_out > 0);
  assert.ok(readFileSync(r.adapter).byteLength > 0);
  const gen = troupe(["generate", "--checkpoint", join(out, "base"), "--adapter", r.adapter, "--prompt", "copy abc", "--chat", "--tokens", "8", "--json"]);
  assert.equal(gen.code, 0, gen.stderr);
});

test("cli - troupe chaos resume: kill -9 after a checkpoint, resume, identical losses", () => {
  const r = troupe(["chaos", "resume", "--steps", "40", "--checkpoint-every", "10", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.json();
  assert.equal(out.steps, 40);
  assert.ok(out.killed_at > 10 && out.killed_at <= 40, `killed at ${out.killed_at}`);
  assert.ok(out.resumed_from >= 10 && out.resumed_from <= out.killed_at);
  assert.equal(out.max_loss_diff, 0);
  assert.equal(out.identical, true);
  assert.equal(out.final_weights_identical, true);
});
