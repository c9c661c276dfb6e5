// models - the command line around Hugging Face directories: verify DIR on the shared fixtures,
// model init → train --model → --save-hf (read back bit-identical to the last checkpoint),
// generate --model with and without the cache, LoRA written as PEFT and --fuse, model fuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sharedFixture, sharedSkip } from "../kernels/helpers.js";
import { K, M, bitwiseEqual, hfFixtures, repoRoot, tempDir, toyText } from "./helpers.js";

function troupe(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/cli/main.js"), ...args], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

for (const name of ["llama", "gpt2"]) {
  test(`hf-cli - troupe verify ../shared/fixtures/hf/${name} --json prints ok`, { skip: sharedSkip(`hf/${name}`) }, () => {
    const r = troupe(["verify", sharedFixture(`hf/${name}`)!, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.ok, true);
    assert.equal(out.kind, "hf-model");
    if (name === "llama") assert.equal(typeof out.max_abs_diff.bf16_logits, "number");
  });
}

test("hf-cli - troupe verify ../shared/fixtures/hf/llama-lora --json is ok on the trained base and says so", { skip: sharedSkip("hf/llama-lora") }, () => {
  const r = troupe(["verify", sharedFixture("hf/llama-lora")!, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.json();
  assert.equal(out.ok, true);
  assert.equal(out.kind, "peft-adapter");
  assert.match(out.base, /after its reference\.safetensors's 10 AdamW steps/);
  assert.equal(out.named_base.ok, false);
  assert.equal(typeof out.note, "string");
  const text = troupe(["verify", sharedFixture("hf/llama-lora")!]);
  assert.match(text.stdout, /note: the reference does not reproduce on the base adapter_config\.json names/);
});

test("hf-cli - verify of an adapter directory, and a failing one exits 1", () => {
  const ok = troupe(["verify", join(hfFixtures, "gpt2-odd-dora"), "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.json().kind, "peft-adapter");
  assert.equal(ok.json().adapter.dora, true);
  const wrongBase = troupe(["verify", join(hfFixtures, "llama-tied-regex"), "--base", join(hfFixtures, "llama-bias")]);
  assert.equal(wrongBase.code, 1);
  assert.doesNotMatch(wrongBase.stderr, /Error:/, "said without a class name (#10)");
  assert.match(wrongBase.stderr, /troupe: .*adapter_model\.safetensors: tensor "base_model\.model\.model\.layers\.1\.self_attn\.q_proj\.lora_A\.weight": has shape \[4,24\]; with r=4 .* it should be \[4,20\]/);
});

test("hf-cli - model init, train --model, --save-hf (bit-identical to the final checkpoint), generate --model", () => {
  using dir = tempDir();
  const data = join(dir.path, "toy.txt");
  writeFileSync(data, toyText());
  const init = troupe(["model", "init", "--arch", "llama", "--config", '{"vocab_size":256,"hidden_size":32,"intermediate_size":64,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":2,"max_position_embeddings":24}', "--out", join(dir.path, "fresh"), "--json"]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(init.json().dims.kv_heads, 2, "--json keys are snake_case (#10)");
  const tr = troupe(["train", "--model", join(dir.path, "fresh"), "--data", data, "--steps", "12", "--batch", "4", "--out", join(dir.path, "runs"), "--save-hf", join(dir.path, "trained"), "--json"]);
  assert.equal(tr.code, 0, tr.stderr);
  const r = tr.json();
  assert.equal(r.arch, "llama");
  assert.equal(r.saved_hf.kind, "hf-model");
  const saved = M.loadHfModel(join(dir.path, "trained")).model;
  const ck = K.readSafetensors(join(r.checkpoint, "model.safetensors")).tensors;
  for (const [n, p] of saved.namedParameters()) assert.ok(bitwiseEqual(p.f32(), ck.get(n)!.f32()), `${n}: the saved directory is the trained model`);
  const cfg = JSON.parse(readFileSync(join(dir.path, "trained", "config.json"), "utf8"));
  assert.equal(cfg.model_type, "llama");
  const g1 = troupe(["generate", "--model", join(dir.path, "trained"), "--prompt", "the ", "--tokens", "15", "--temperature", "0", "--json"]);
  const g2 = troupe(["generate", "--model", join(dir.path, "trained"), "--prompt", "the ", "--tokens", "15", "--temperature", "0", "--no-cache", "--json"]);
  assert.equal(g1.code, 0, g1.stderr);
  assert.equal(g1.json().text, g2.json().text, "cached and uncached generate the same text");
  const bad = troupe(["generate", "--model", sharedFixture("hf/llama") ?? join(hfFixtures, "llama-tied"), "--prompt", "x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /vocabulary has \d+ entries; troupe's byte tokenizer needs 256 \(give --prompt-ids/);
  const ids = troupe(["generate", "--model", join(hfFixtures, "llama-tied"), "--prompt-ids", "1,2,3", "--tokens", "4", "--temperature", "0", "--json"]);
  assert.equal(ids.code, 0, ids.stderr);
  assert.equal(ids.json().ids.length, 4);
});

test("hf-cli - train --lora on a model directory writes a PEFT adapter; --fuse writes the merged model; model fuse agrees", () => {
  using dir = tempDir();
  const base = join(dir.path, "base");
  assert.equal(troupe(["model", "init", "--arch", "gpt2", "--config", '{"vocab_size":256,"n_positions":64,"n_embd":32,"n_head":2,"n_layer":2}', "--out", base]).code, 0);
  const common = ["--model", base, "--data", "pack:copying", "--lora", "2", "--steps", "6", "--batch", "8", "--pack-train", "20", "--out", join(dir.path, "runs")];
  const lora = troupe(["train", ...common, "--run", "a", "--save-hf", join(dir.path, "adapter"), "--json"]);
  assert.equal(lora.code, 0, lora.stderr);
  assert.equal(lora.json().saved_hf.kind, "peft-adapter");
  const cfg = JSON.parse(readFileSync(join(dir.path, "adapter", "adapter_config.json"), "utf8"));
  assert.equal(cfg.base_model_name_or_path, base);
  assert.equal(cfg.fan_in_fan_out, true);
  const fusedRun = troupe(["train", ...common, "--run", "b", "--save-hf", join(dir.path, "fused"), "--fuse", "--json"]);
  assert.equal(fusedRun.code, 0, fusedRun.stderr);
  assert.equal(fusedRun.json().saved_hf.fused_layers, 4);
  const viaCmd = troupe(["model", "fuse", "--model", base, "--adapter", join(dir.path, "adapter"), "--out", join(dir.path, "fused2"), "--json"]);
  assert.equal(viaCmd.code, 0, viaCmd.stderr);
  // the same seed and data: both runs trained the same adapter, so the two fused models agree
  const a = M.loadHfModel(join(dir.path, "fused")).model, b = M.loadHfModel(join(dir.path, "fused2")).model;
  const idx = K.randint([1, 8], 256, K.createRng(1));
  assert.ok(bitwiseEqual(K.noGrad(() => a.forward(idx)).f32(), K.noGrad(() => b.forward(idx)).f32()));
  const usage = troupe(["train", "--model", base, "--data", "pack:copying", "--fuse", "--steps", "1"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--fuse merges a --lora adapter into its base before --save-hf writes it/);
});

test("hf-cli - train --lora --base-bits 4|8 (QLoRA) trains an adapter on a quantised Llama base and writes it as PEFT", () => {
  using dir = tempDir();
  const base = join(dir.path, "base");
  assert.equal(troupe(["model", "init", "--arch", "llama", "--config", '{"vocab_size":256,"max_position_embeddings":64,"hidden_size":64,"intermediate_size":96,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":2}', "--out", base]).code, 0);
  for (const bits of [4, 8]) {
    const r = troupe(["train", "--model", base, "--data", "pack:copying", "--lora", "2", "--base-bits", String(bits), "--steps", "4", "--batch", "4", "--pack-train", "20",
      "--out", join(dir.path, "runs"), "--run", `q${bits}`, "--save-hf", join(dir.path, `adapter${bits}`), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.base_bits, bits);
    assert.equal(out.quantized_layers, 14, "q, k, v, o, gate, up, down of 2 layers; the head stays f32");
    assert.ok(Number.isFinite(out.train_loss));
    assert.equal(out.saved_hf.kind, "peft-adapter");
    // the adapter trained on the quantised base loads onto the f32 base
    const m = M.loadHfModel(base).model;
    M.loadPeftAdapter(m, join(dir.path, `adapter${bits}`));
  }
  const usage = troupe(["train", "--model", base, "--data", "pack:copying", "--base-bits", "4", "--steps", "1"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--base-bits quantises the frozen base of a --lora run/);
  const bad = troupe(["train", "--model", base, "--data", "pack:copying", "--lora", "2", "--base-bits", "5", "--steps", "1"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--base-bits must be 4 or 8/);
});
