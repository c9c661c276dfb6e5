// models - the LoRA reference fixture (PyTorch) through the models layer's LoRA GPT, and
// `troupe verify` dispatching a LoRA file there.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { testNeeding } from "../harness/needs.js";
import { sharedFixture, sharedMissing } from "../kernels/helpers.js";
import { K, M, repoRoot, tempDir } from "./helpers.js";

const missing = sharedMissing("lora_reference.safetensors");

testNeeding("verify-lora - lora_reference.safetensors: logits, loss and LoRA gradients within their per-tensor bounds, base frozen", missing, () => {
  const r = M.verifyLoraFixture(sharedFixture("lora_reference.safetensors")!);
  assert.equal(r.ok, true);
  assert.equal(r.base_frozen, true);
  assert.equal(r.lora.rank, 4);
  assert.equal(r.lora.alpha, 8);
  assert.equal(r.lora.tensors, 8);
  assert.deepEqual(Object.keys(r.checks), ["logits", "loss", "grads"]);
  for (const [k, c] of Object.entries(r.checks)) assert.ok(c.worst_ratio <= 1, `${k} ${c.worst_ratio}`);
});

testNeeding("verify-lora - a tampered LoRA gradient fails the check", missing, () => {
  using dir = tempDir();
  const fx = K.readSafetensors(sharedFixture("lora_reference.safetensors")!);
  fx.tensors.get("grad.h.1.proj.lora_B")!.f32()[2]! += 1e-3;
  const path = join(dir.path, "tampered.safetensors");
  K.writeSafetensors(path, fx.tensors, fx.metadata);
  const r = M.verifyLoraFixture(path);
  assert.equal(r.ok, false);
  assert.deepEqual(r.failed, ["grads"]);
  assert.equal(r.worst.grads, "grad.h.1.proj.lora_B[2]");
});

testNeeding("verify-lora - troupe verify sends LoRA fixtures to the models layer", missing, () => {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/cli/main.js"), "verify", sharedFixture("lora_reference.safetensors")!, "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.kind, "lora");
  assert.equal(out.ok, true);
});
