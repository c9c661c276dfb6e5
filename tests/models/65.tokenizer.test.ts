// models - the tokenizer is part of a model: `troupe tokenizer train`, `train --tokenizer DIR`
// (checkpoints carry tokenizer.json, verified by digest), val_bpb, `generate` and `train --base`
// picking the tokenizer up, and a changed or missing tokenizer file refused. guards #15 (item 4)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as D from "../../data/mod.js";
import { M, repoRoot, tempDir, toyText } from "./helpers.js";

function troupe(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/cli/main.js"), ...args], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const SMALL = ["--embd", "32", "--layers", "1", "--heads", "2", "--block", "16", "--batch", "4"];

test("tokenizer cli - train a BPE, train a model with it, generate with the checkpoint's tokenizer", async () => {
  using dir = tempDir();
  const data = join(dir.path, "toy.txt");
  writeFileSync(data, toyText());
  const tokDir = join(dir.path, "tok");
  const made = troupe(["tokenizer", "train", "--data", data, "--vocab", "270", "--out", tokDir, "--json"]);
  assert.equal(made.code, 0, made.stderr);
  const m = made.json();
  assert.equal(m.vocab, 270);
  assert.equal(m.stopped_early, false);
  assert.ok(m.bytes_per_token > 1.5, `${m.bytes_per_token} bytes/token`);
  assert.ok(existsSync(join(tokDir, "tokenizer.json")) && existsSync(join(tokDir, "tokenizer_config.json")));
  const enc = troupe(["tokenizer", "encode", "--tokenizer", tokDir, "--text", "the cat", "--json"]);
  assert.equal(enc.code, 0, enc.stderr);
  assert.equal(enc.json().decoded, "the cat");

  const out = join(dir.path, "runs");
  const r = troupe(["train", "--data", data, "--tokenizer", tokDir, "--steps", "20", "--checkpoint-every", "10", "--out", out, ...SMALL, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const res = r.json();
  assert.equal(res.config.vocab_size, 270, "the model's vocabulary is the tokenizer's");
  assert.equal(res.tokenizer, tokDir);
  assert.ok(res.val_bpb > 0 && res.val_bpb < res.val_loss / Math.LN2, "bits per byte below bits per token: a token holds more than a byte");
  const ckFiles = JSON.parse(readFileSync(join(res.checkpoint, "manifest.json"), "utf8")).files as Record<string, { sha256: string }>;
  assert.ok("tokenizer.json" in ckFiles && "tokenizer_config.json" in ckFiles, "the checkpoint carries the tokenizer");
  assert.deepEqual(readFileSync(join(res.checkpoint, "tokenizer.json")), readFileSync(join(tokDir, "tokenizer.json")));

  const loaded = await M.loadModelFile(res.checkpoint);
  const tok = M.tokenizerOf(loaded.model);
  assert.equal(tok.vocabSize, 270);
  assert.deepEqual(loaded.spec.tokenizer, (await D.loadTokenizer(tokDir)).spec);

  const gen = troupe(["generate", "--checkpoint", join(out, "toy"), "--prompt", "the ", "--tokens", "12", "--json"]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(gen.json().tokens, 12);
  assert.match(gen.json().tokenizer, /^hf:[0-9a-f]{64}/);

  // resuming with another tokenizer is refused
  const bytesResume = troupe(["train", "--data", data, "--steps", "30", "--out", out, ...SMALL, "--resume", "--json"]);
  assert.equal(bytesResume.code, 2, "a changed flag is bad input (guards #10)");
  assert.match(bytesResume.stderr, /trained with tokenizer hf:.*tokenized with bytes; resume with the same --tokenizer/);
});

test("tokenizer - a lone model.safetensors finds its tokenizer.json beside it; a changed or missing one is refused", async () => {
  using dir = tempDir();
  const text = toyText();
  const tok = D.tokenizerOfTrained(D.trainBpe(text, { vocabSize: 270 }));
  const corpus = D.corpusFromText(text, { tokenizer: tok });
  const r = await M.trainText({ steps: 3, corpus, model: { nEmbd: 16, nLayer: 1, nHead: 2, blockSize: 8 }, batch: 2,
    checkpoints: { store: M.localCheckpointStore(dir.path), run: "r", stage: "train", every: 3 } });
  assert.ok(Number.isFinite(r.valBpb));
  const ck = M.localCheckpointStore(dir.path).dirOf(r.checkpoint!);
  const lone = join(dir.path, "lone");
  mkdirSync(lone);
  copyFileSync(join(ck, "model.safetensors"), join(lone, "model.safetensors"));
  await assert.rejects(M.loadModelFile(join(lone, "model.safetensors")), (e: unknown) => M.isCheckpointFormatError(e) && /tokenizer.json: is missing/.test((e as Error).message));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(ck, f), join(lone, f));
  const ok = await M.loadModelFile(join(lone, "model.safetensors"));
  assert.deepEqual([...M.tokenizerOf(ok.model).encode("the cat")], [...tok.encode("the cat")]);
  // another tokenizer.json of the same shape is not the model's
  const other = D.tokenizerOfTrained(D.trainBpe(text.split("").reverse().join(""), { vocabSize: 270 }));
  writeFileSync(join(lone, "tokenizer.json"), other.files.get("tokenizer.json")!);
  await assert.rejects(M.loadModelFile(join(lone, "model.safetensors")), (e: unknown) => M.isCheckpointFormatError(e) && /a different tokenizer/.test((e as Error).message));
  // in a checkpoint directory the manifest's SHA-256 catches it first
  writeFileSync(join(ck, "tokenizer.json"), other.files.get("tokenizer.json")!);
  await assert.rejects(M.loadModelFile(ck), (e: unknown) => M.isBadCheckpointError(e) && /tokenizer.json/.test((e as Error).message));
  rmSync(lone, { recursive: true, force: true });
  // a checkpoint file may not take the name of the manifest or a tensor file
  for (const name of ["manifest.json", "model.safetensors", "../escape", ""]) {
    assert.throws(() => M.encodeCheckpoint({ run: "r", stage: "s", step: 1, config: null, state: null }, { model: [], files: [[name, new Uint8Array(1)]] }), (e: unknown) => M.isModelConfigError(e), name);
  }
});

test("tokenizer - SFT with a BPE: pads with its eot, the base's tokenizer carries over to an adapter", async () => {
  const text = toyText() + "\nQ: 12+7=\nA: 19\n".repeat(50);
  const tok = D.tokenizerOfTrained(D.trainBpe(text, { vocabSize: 275 }));
  const data = await M.packData(["arithmetic"], { trainPerCell: 40, heldOutPerCell: 8, tokenizer: tok });
  assert.equal(data.tokenizer, tok);
  const base = await M.trainSft({ steps: 4, data, config: { nEmbd: 16, nLayer: 1, nHead: 2, blockSize: 32 }, batch: 8 });
  assert.equal(base.model.dims.vocabSize, 275);
  assert.equal(M.tokenizerOf(base.model), tok);
  assert.ok(Number.isFinite(base.valBpb) && base.valBpb > 0);
  const adapted = await M.trainAdapter({ base: base.model, domains: ["arithmetic"], pack: { trainPerCell: 20, heldOutPerCell: 8 }, lora: { rank: 2 }, steps: 2, batch: 4 });
  assert.equal(adapted.data.tokenizer?.spec, tok.spec, "the adapter's data is encoded with the base's tokenizer");
  const bytesData = await M.packData(["arithmetic"], { trainPerCell: 4, heldOutPerCell: 2 });
  await assert.rejects(M.trainSft({ steps: 1, data: bytesData, model: base.model }), (e: unknown) => M.isModelConfigError(e) && /data is tokenized with bytes, the model with hf:/.test((e as Error).message));
});

test("tokenizer - a wall-clock budget (maxSeconds) ends a run after the step that spent it; a BPE Llama trains from scratch with it (bench bpe's sides)", async () => {
  using dir = tempDir();
  const text = toyText();
  const tok = D.tokenizerOfTrained(D.trainBpe(text, { vocabSize: 300 }));
  const corpus = D.corpusFromText(text, { tokenizer: tok });
  const llama = M.attachTokenizer(M.createModel("llama", { vocabSize: tok.vocabSize, hiddenSize: 16, intermediateSize: 24, numHeads: 2, numKvHeads: 1, numLayers: 1, maxPositions: 8 }, 1), tok);
  const t0 = performance.now();
  const r = await M.trainText({ steps: 1_000_000, maxSeconds: 0.3, evalEvery: 1_000_000, corpus, start: llama, batch: 2,
    checkpoints: { store: M.localCheckpointStore(dir.path), run: "r", stage: "train", every: 1_000_000 } });
  const s = (performance.now() - t0) / 1000;
  assert.ok(r.steps > 0 && r.steps < 1_000_000, `stopped by the budget after ${r.steps} steps`);
  assert.ok(s < 30, `took ${s} s`);
  assert.equal(r.checkpoint?.step, r.steps, "the last step is checkpointed like a run's end");
  assert.equal(r.spec.arch, "llama");
  assert.ok(Number.isFinite(r.valBpb));
});
