// models - a Hugging Face model directory's tokenizer: tokenizer.json (+ tokenizer_config.json
// and its chat template) attached to the model on load for both architectures, carried by the
// checkpoints of `train --model DIR`, written back by --save-hf and read back the same; a
// tokenizer the directory's vocabulary cannot hold, or one troupe cannot read, is a
// ModelFileError naming tokenizer.json. guards #15 (items 2 and 4)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as D from "../../data/mod.js";
import { K, M, bitwiseEqual, repoRoot, tempDir, toyText } from "./helpers.js";

function troupe(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/cli/main.js"), ...args], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const TEMPLATE = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}";

/** A BPE trained on the toy text, its tokenizer_config.json carrying a chat template. */
function bpeWithTemplate(vocab = 270): D.Tokenizer {
  const trained = D.tokenizerOfTrained(D.trainBpe(toyText(), { vocabSize: vocab }));
  const cfg = JSON.parse(new TextDecoder().decode(trained.files.get("tokenizer_config.json")!));
  cfg.chat_template = TEMPLATE;
  return D.tokenizerFromJson(trained.files.get("tokenizer.json")!, new TextEncoder().encode(JSON.stringify(cfg)));
}

function writeTokenizer(dir: string, tok: D.Tokenizer): void {
  for (const [name, bytes] of tok.files) writeFileSync(join(dir, name), bytes);
}

test("hf tokenizer - both architectures: a directory's tokenizer.json is attached on load and written back by saveHfModel", () => {
  using dir = tempDir();
  const tok = bpeWithTemplate();
  const models = [
    M.createModel("llama", { vocabSize: 272, hiddenSize: 24, intermediateSize: 40, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 16 }, 1),
    M.createModel("gpt2", { vocabSize: 272, blockSize: 16, nEmbd: 16, nHead: 2, nLayer: 1 }, 1),
  ];
  for (const model of models) {
    const a = join(dir.path, `${model.arch}-a`);
    M.saveHfModel(model, a);
    assert.equal(existsSync(join(a, "tokenizer.json")), false, "a byte-level model writes no tokenizer");
    assert.equal(M.tokenizerOf(M.loadHfModel(a).model).spec, "bytes", "without tokenizer.json the model keeps bytes");
    writeTokenizer(a, tok);
    const loaded = M.loadHfModel(a);
    assert.deepEqual(loaded.tokenizer.spec, tok.spec);
    assert.deepEqual(M.tokenizerOf(loaded.model).spec, tok.spec, `${model.arch}: the tokenizer is attached`);
    assert.deepEqual(M.specOf(loaded.model).tokenizer, tok.spec, "the spec names it, so checkpoints carry it");
    // its chat template came along
    const ex = D.templateFor(M.tokenizerOf(loaded.model)).encodeExample("hi", "yo");
    assert.equal(tok.decode(ex.ids).startsWith("<user>hi\n<assistant>yo"), true);
    // written back beside the weights, byte for byte, and read back the same
    const b = join(dir.path, `${model.arch}-b`);
    const saved = M.saveHfModel(loaded.model, b);
    assert.ok(saved.files.includes("tokenizer.json") && saved.files.includes("tokenizer_config.json"), saved.files.join(","));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) assert.deepEqual(readFileSync(join(b, f)), readFileSync(join(a, f)), f);
    const back = M.loadHfModel(b).model;
    assert.deepEqual(M.tokenizerOf(back).spec, tok.spec);
    const want = new Map(loaded.model.namedParameters());
    for (const [n, p] of back.namedParameters()) assert.ok(bitwiseEqual(p.f32(), want.get(n)!.f32()), `${model.arch}: ${n}`);
    // a byte-level model saved over it removes the stale tokenizer files
    M.saveHfModel(model, b);
    assert.equal(existsSync(join(b, "tokenizer.json")) || existsSync(join(b, "tokenizer_config.json")), false);
  }
});

test("hf tokenizer - more ids than vocab_size, or a tokenizer.json troupe cannot read, is a ModelFileError naming it", () => {
  using dir = tempDir();
  const d = join(dir.path, "m");
  M.saveHfModel(M.createModel("llama", { vocabSize: 260, hiddenSize: 24, intermediateSize: 40, numHeads: 4, numKvHeads: 2, numLayers: 1, maxPositions: 16 }, 1), d);
  writeTokenizer(d, bpeWithTemplate(270));
  assert.throws(() => M.loadHfModel(d), (e: unknown) => M.isModelFileError(e) && /tokenizer\.json: has 27\d ids, more than config\.json's vocab_size 260/.test((e as Error).message));
  writeFileSync(join(d, "tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
  assert.throws(() => M.loadHfModel(d), (e: unknown) => M.isModelFileError(e) && (e as M.ModelFileError).file === join(d, "tokenizer.json") && /cannot be used as the model's tokenizer/.test((e as Error).message));
});

test("hf tokenizer cli - train --model DIR tokenizes with the directory's tokenizer, checkpoints and --save-hf carry it, generate uses it", () => {
  using dir = tempDir();
  const data = join(dir.path, "toy.txt");
  writeFileSync(data, toyText());
  const tok = bpeWithTemplate();
  const base = join(dir.path, "base");
  const init = troupe(["model", "init", "--arch", "llama", "--config", '{"vocab_size":272,"hidden_size":32,"intermediate_size":64,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":1,"max_position_embeddings":16}', "--out", base, "--json"]);
  assert.equal(init.code, 0, init.stderr);
  writeTokenizer(base, tok);
  const out = join(dir.path, "trained");
  const tr = troupe(["train", "--model", base, "--data", data, "--steps", "6", "--batch", "4", "--out", join(dir.path, "runs"), "--save-hf", out, "--json"]);
  assert.equal(tr.code, 0, tr.stderr);
  const r = tr.json();
  assert.equal(r.tokenizer, D.tokenizerId(tok.spec), "the corpus went through the directory's tokenizer");
  assert.ok(r.val_bpb > 0 && r.val_bpb < r.val_loss / Math.LN2, "bits per byte below bits per token: a BPE token holds more than a byte");
  assert.deepEqual(readFileSync(join(r.checkpoint, "tokenizer.json")), readFileSync(join(base, "tokenizer.json")), "the checkpoint carries it");
  assert.deepEqual(readFileSync(join(out, "tokenizer.json")), readFileSync(join(base, "tokenizer.json")), "--save-hf writes it back");
  assert.deepEqual(readFileSync(join(out, "tokenizer_config.json")), readFileSync(join(base, "tokenizer_config.json")));
  const saved = M.loadHfModel(out).model;
  const ck = K.readSafetensors(join(r.checkpoint, "model.safetensors")).tensors;
  for (const [n, p] of saved.namedParameters()) assert.ok(bitwiseEqual(p.f32(), ck.get(n)!.f32()), n);
  const gen = troupe(["generate", "--model", out, "--prompt", "the cat", "--tokens", "6", "--temperature", "0", "--json"]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(gen.json().tokenizer, D.tokenizerId(tok.spec));
  assert.equal(gen.json().tokens, 6);
  const chat = troupe(["generate", "--model", out, "--prompt", "the cat", "--chat", "--tokens", "4", "--temperature", "0", "--json"]);
  assert.equal(chat.code, 0, chat.stderr);
  // a --tokenizer that is not the model's is refused
  const other = join(dir.path, "other");
  const made = troupe(["tokenizer", "train", "--data", data, "--vocab", "265", "--out", other]);
  assert.equal(made.code, 0, made.stderr);
  const clash = troupe(["train", "--model", base, "--tokenizer", other, "--data", data, "--steps", "1", "--out", join(dir.path, "runs"), "--run", "clash"]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--tokenizer .* is not the tokenizer of the model it starts from/);
});
