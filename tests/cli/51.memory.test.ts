// guards #10: troupe train estimates memory before allocating; a model that cannot fit is
// refused at once with the estimate and the memory available; --force overrides; the estimate
// is said with the first progress line. The parameter count matches a built model's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countParameters, createGpt, estimateTrainingMemory, gptParameterCount, resolveGptConfig } from "../../models/mod.js";
import { troupe } from "./cli.js";

test("memory - the estimate's parameter count is the built model's (tied and untied heads)", () => {
  for (const raw of [{ vocabSize: 256, blockSize: 32, nEmbd: 16, nHead: 2, nLayer: 2 }, { vocabSize: 300, blockSize: 48, nEmbd: 24, nHead: 3, nLayer: 1, tiedLmHead: false }]) {
    const c = resolveGptConfig(raw);
    assert.equal(gptParameterCount(c), countParameters(createGpt(c, 1)), JSON.stringify(raw));
  }
  const e = estimateTrainingMemory(resolveGptConfig({ nEmbd: 64, nHead: 4, nLayer: 2 }), { batch: 8 });
  const lora = estimateTrainingMemory(resolveGptConfig({ nEmbd: 64, nHead: 4, nLayer: 2 }), { batch: 8, trainable: 100 });
  assert.equal(e.total, e.params + e.grads + e.optimizer + e.activations + e.workspace);
  assert.ok(lora.total < e.total && lora.params === e.params, "a frozen base keeps no gradients or moments");
  const doubled = estimateTrainingMemory(resolveGptConfig({ nEmbd: 64, nHead: 4, nLayer: 2 }), { batch: 16 });
  assert.ok(doubled.activations === 2 * e.activations, "activations scale with the batch");
});

test("memory - train --embd 8192 --layers 64 --block 4096 exits 2 at once with the estimate and the memory available", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-memory-"));
  try {
    writeFileSync(join(dir, "t.txt"), "some text to train on. ".repeat(2000));
    const t0 = Date.now();
    const r = await troupe(["train", "--embd", "8192", "--layers", "64", "--block", "4096", "--heads", "64", "--data", join(dir, "t.txt"), "--out", join(dir, "runs")]);
    const ms = Date.now() - t0;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /needs about [\d.]+ TiB to train \(51582M parameters: weights 192 GiB, gradients 192 GiB, AdamW 384 GiB, activations .* for --batch 16 × --block 4096\) but the machine has [\d.]+ GiB available of [\d.]+ GiB/);
    assert.match(r.stderr, /--force/);
    assert.ok(ms < 5000, `refused in ${ms} ms, before allocating`);
    const j = await troupe(["train", "--embd", "8192", "--layers", "64", "--block", "4096", "--data", join(dir, "t.txt"), "--out", join(dir, "runs"), "--json"]);
    assert.equal(JSON.parse(j.stdout).error.code, "too_large");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("memory - a small model refused when little is available; --force trains it and the first progress line carries the estimate", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-memory-"));
  try {
    writeFileSync(join(dir, "t.txt"), "some text to train on. ".repeat(2000));
    const args = ["train", "--data", join(dir, "t.txt"), "--steps", "2", "--embd", "16", "--layers", "1", "--heads", "2", "--block", "32", "--out", join(dir, "runs"), "--json"];
    const tight = { TROUPE_MEMORY_AVAILABLE: "1000000" };
    const refused = await troupe(args, tight);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /available/);
    const forced = await troupe([...args, "--force"], tight);
    assert.equal(forced.code, 0, forced.stderr);
    const first = JSON.parse(forced.stderr.split("\n").find((l) => l.includes("train progress"))!);
    const result = JSON.parse(forced.stdout);
    assert.equal(first.memory_estimate_bytes, result.memory_estimate_bytes);
    assert.equal(first.memory_available_bytes, 1000000);
    assert.ok(result.memory_estimate_bytes > 1000000);
    const roomy = await troupe([...args, "--run", "roomy"]);
    assert.equal(roomy.code, 0, roomy.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
