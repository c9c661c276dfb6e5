// models - Hugging Face model directories: every fixture (shared and generated, Llama and GPT-2,
// F32/F16/BF16, sharded, tied and untied, odd sizes) reproduces its PyTorch reference through
// `verify DIR`; a tampered reference fails; reading back what troupe writes is bit-identical;
// a missing tensor, a wrong shape, an unknown model_type and a truncated file are errors naming
// the file, the tensor and what was expected. (issue 15)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sharedFixture, sharedSkip } from "../kernels/helpers.js";
import { K, M, bitwiseEqual, copyDir, hfFixtures, tempDir, tinyLlama } from "./helpers.js";

const generated = readdirSync(hfFixtures).filter((d) => !readFileSync(join(hfFixtures, d, readdirSync(join(hfFixtures, d)).includes("config.json") ? "config.json" : "adapter_config.json"), "utf8").includes('"peft_type"'));

for (const name of generated) {
  test(`hf - ${name}: verify DIR reproduces its PyTorch reference`, () => {
    const r = M.verifyModelDir(join(hfFixtures, name));
    assert.equal(r.ok, true, JSON.stringify({ diffs: r.max_abs_diff, worst: r.worst }));
    assert.ok(r.max_abs_diff.grads !== undefined && r.max_abs_diff.after_params !== undefined, "gradients and the AdamW trajectory are compared");
  });
}

for (const name of ["llama", "gpt2"]) {
  test(`hf - shared fixture hf/${name}: verify DIR is ok`, { skip: sharedSkip(`hf/${name}`) }, () => {
    const r = M.verifyModelDir(sharedFixture(`hf/${name}`)!);
    assert.equal(r.ok, true, JSON.stringify(r.max_abs_diff));
    if (name === "llama") assert.ok(r.max_abs_diff.bf16_logits !== undefined && r.max_abs_diff.bf16_logits <= 1e-4, "bf16_logits reported");
  });
}

test("hf - a tampered reference fails verify in the group it touches", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "llama-tied"), join(dir.path, "m"));
  const ref = K.readSafetensors(join(d, "reference.safetensors"));
  ref.tensors.get("grad.model.layers.1.mlp.up_proj.weight")!.f32()[5]! += 1e-3;
  K.writeSafetensors(join(d, "reference.safetensors"), ref.tensors, ref.metadata);
  const bf = K.readSafetensors(join(d, "reference.bf16.safetensors"));
  bf.tensors.get("out.logits")!.f32()[0]! += 1e-2;
  K.writeSafetensors(join(d, "reference.bf16.safetensors"), bf.tensors, bf.metadata);
  const r = M.verifyModelDir(d);
  assert.equal(r.ok, false);
  assert.deepEqual(r.failed.sort(), ["bf16_logits", "grads"]);
  assert.equal(r.worst.grads, "grad.model.layers.1.mlp.up_proj.weight");
  // a reference gradient for a parameter the model does not have is an error, not ignored
  ref.tensors.set("grad.model.layers.7.mlp.up_proj.weight", K.zeros([2]));
  K.writeSafetensors(join(d, "reference.safetensors"), ref.tensors, ref.metadata);
  assert.throws(() => M.verifyModelDir(d), (e) => M.isModelFileError(e) && /grad\.model\.layers\.7\.mlp\.up_proj\.weight.*names no trained parameter/.test(e.message));
});

test("hf - loading reads the config's architecture and every dtype: F16 and BF16 weights are widened", () => {
  const gqa = M.loadHfModel(join(hfFixtures, "llama-gqa"));
  assert.equal(gqa.arch.name, "llama");
  assert.deepEqual(gqa.dtypes, ["F16"]);
  assert.equal(gqa.files.length, 2, "two shards");
  assert.deepEqual({ ...gqa.model.dims }, { vocabSize: 53, hidden: 36, layers: 3, heads: 6, kvHeads: 2, headDim: 6, maxPositions: 16 });
  assert.deepEqual(M.loadHfModel(join(hfFixtures, "llama-bias")).dtypes, ["BF16"]);
  const g = M.loadHfModel(join(hfFixtures, "gpt2-odd"));
  assert.equal(g.arch.name, "gpt2");
  assert.equal(M.specOf(g.model).config.tiedLmHead, true);
});

test("hf - saved with saveHfModel and read back bit-identical (single file, shards, another architecture)", () => {
  using dir = tempDir();
  for (const [name, model] of [["llama", M.loadHfModel(join(hfFixtures, "llama-bias")).model], ["gpt2", M.loadHfModel(join(hfFixtures, "gpt2-untied")).model], ["fresh", tinyLlama(3)]] as const) {
    for (const maxShardBytes of [undefined, 4096]) {
      const out = join(dir.path, `${name}-${maxShardBytes ?? "one"}`);
      const saved = M.saveHfModel(model, out, maxShardBytes ? { maxShardBytes } : {});
      if (maxShardBytes) assert.ok(saved.files.includes("model.safetensors.index.json") && saved.files.length > 3, `${name}: sharded ${saved.files}`);
      const back = M.loadHfModel(out).model;
      assert.equal(back.arch, model.arch);
      assert.deepEqual(M.specOf(back).config, M.specOf(model).config);
      const want = new Map(model.namedParameters());
      for (const [n, p] of back.namedParameters()) assert.ok(bitwiseEqual(p.f32(), want.get(n)!.f32()), `${name}: ${n} differs`);
    }
  }
  // BF16 storage rounds each weight once
  const m = tinyLlama(4);
  M.saveHfModel(m, join(dir.path, "bf16"), { dtype: "bf16" });
  const cfg = JSON.parse(readFileSync(join(dir.path, "bf16", "config.json"), "utf8"));
  assert.equal(cfg.torch_dtype, "bfloat16");
  const back = M.loadHfModel(join(dir.path, "bf16"));
  assert.deepEqual(back.dtypes, ["BF16"]);
  const p0 = m.namedParameters()[1]![1];
  assert.ok(bitwiseEqual(back.model.namedParameters()[1]![1].f32(), K.toF32(K.toBF16(p0)).f32()));
});

test("hf - GPT-2 is written as transformers writes it: Conv1D weights (in, out), transformer. prefix", () => {
  using dir = tempDir();
  const { model } = M.loadHfModel(join(hfFixtures, "gpt2-untied"));
  M.saveHfModel(model, dir.path);
  const st = K.readSafetensors(join(dir.path, "model.safetensors"));
  assert.equal(st.metadata.format, "pt");
  assert.deepEqual([...st.tensors.get("transformer.h.0.attn.c_attn.weight")!.shape], [16, 48]);
  assert.deepEqual([...st.tensors.get("lm_head.weight")!.shape], [30, 16]);
  const cfg = JSON.parse(readFileSync(join(dir.path, "config.json"), "utf8"));
  assert.equal(cfg.model_type, "gpt2");
  assert.deepEqual(cfg.architectures, ["GPT2LMHeadModel"]);
});

function expectFileError(fn: () => unknown, file: RegExp, tensor: string | null, what: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(M.isModelFileError(e), `expected a ModelFileError, got ${e}`);
    assert.match(e.file, file);
    if (tensor !== null) assert.equal(e.tensor, tensor);
    assert.match(e.message, what);
    return true;
  });
}

test("hf - a missing tensor names the file, the tensor and the shape expected", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "llama-tied"), join(dir.path, "m"));
  const st = K.readSafetensors(join(d, "model.safetensors"));
  st.tensors.delete("model.layers.1.mlp.down_proj.weight");
  K.writeSafetensors(join(d, "model.safetensors"), st.tensors, st.metadata);
  expectFileError(() => M.loadHfModel(d), /model\.safetensors$/, "model.layers.1.mlp.down_proj.weight", /is missing; llama with this config.json needs it as F32\/F16\/BF16 \[24,40\]/);
});

test("hf - a shape that does not match config.json names the tensor and both shapes", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "llama-tied"), join(dir.path, "m"));
  const cfg = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
  writeFileSync(join(d, "config.json"), JSON.stringify({ ...cfg, intermediate_size: 41 }));
  expectFileError(() => M.loadHfModel(d), /model\.safetensors$/, "model.layers.0.mlp.gate_proj.weight", /has shape \[40,24\], config\.json implies \[41,24\]/);
  // a sharded model: the shard file is named
  const s = copyDir(join(hfFixtures, "llama-gqa"), join(dir.path, "s"));
  const scfg = JSON.parse(readFileSync(join(s, "config.json"), "utf8"));
  writeFileSync(join(s, "config.json"), JSON.stringify({ ...scfg, num_key_value_heads: 3 }));
  expectFileError(() => M.loadHfModel(s), /model-0000\d-of-00002\.safetensors$/, "model.layers.0.self_attn.k_proj.weight", /has shape \[12,36\], config\.json implies \[18,36\]/);
});

test("hf - an unknown model_type says which ones troupe has", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "gpt2-untied"), join(dir.path, "m"));
  writeFileSync(join(d, "config.json"), JSON.stringify({ model_type: "mamba", vocab_size: 3 }));
  assert.throws(() => M.loadHfModel(d), (e: unknown) => M.isUnknownArchitectureError(e) && /config\.json: unknown model_type "mamba"; troupe has "gpt2", "llama"/.test((e as Error).message));
});

test("hf - a truncated weights file names the tensor that does not fit", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "llama-tied"), join(dir.path, "m"));
  const file = join(d, "model.safetensors");
  truncateSync(file, statSync(file).size - 100); // the last tensors: model.norm.weight (96 bytes) and the tail of the one before
  expectFileError(() => M.loadHfModel(d), /model\.safetensors$/, "model.layers.1.post_attention_layernorm.weight", /needs bytes \[\d+, \d+\) of the file, which has \d+ \(truncated\)/);
});

test("hf - unsupported settings and foreign tensors are refused, not ignored", () => {
  using dir = tempDir();
  const d = copyDir(join(hfFixtures, "llama-tied"), join(dir.path, "m"));
  const cfg = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
  writeFileSync(join(d, "config.json"), JSON.stringify({ ...cfg, hidden_act: "gelu" }));
  expectFileError(() => M.loadHfModel(d), /config\.json$/, null, /"hidden_act" is "gelu"; troupe supports "silu"/);
  writeFileSync(join(d, "config.json"), JSON.stringify({ ...cfg, rope_scaling: { rope_type: "yarn", factor: 2 } }));
  expectFileError(() => M.loadHfModel(d), /config\.json$/, null, /rope_scaling type "yarn" is not supported/);
  writeFileSync(join(d, "config.json"), JSON.stringify(cfg));
  const st = K.readSafetensors(join(d, "model.safetensors"));
  st.tensors.set("model.layers.0.self_attn.q_norm.weight", K.zeros([8]));
  K.writeSafetensors(join(d, "model.safetensors"), st.tensors, st.metadata);
  expectFileError(() => M.loadHfModel(d), /model\.safetensors$/, "model.layers.0.self_attn.q_norm.weight", /not a parameter of llama with this config/);
});
