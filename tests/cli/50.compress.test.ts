// cli - the compression commands end to end (guards #12): `troupe compress FILE --json` runs
// distil → prune → quantise → fine-tune → export on a small model and corpus and prints the
// report (steps with bytes and val_loss, compression, val_loss_increase); a gate that cannot
// hold stops the run with exit 1 where it failed; export / quantize / prune / distill write
// files the next command (and llama.cpp's format reader) loads; bad configs and flags are
// usage errors.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as D from "../../data/mod.js";
import * as K from "../../kernels/mod.js";
import * as M from "../../models/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "troupe-cli-compress-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function troupe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
const json = (o: { code: number | null; stdout: string; stderr: string }, code = 0) => {
  assert.equal(o.code, code, o.stderr.slice(-3000));
  const lines = o.stdout.trim().split("\n");
  assert.equal(lines.length, 1, "one JSON document on stdout");
  return JSON.parse(lines[0]!);
};

const text = Array.from({ length: 900 }, (_, i) => `line ${i % 37}: to be or not to be, that is the question ${i % 11}.\n`).join("");
const corpusFile = join(dir, "corpus.txt");
writeFileSync(corpusFile, text);
let teacherFile: Promise<string> | null = null;
function teacher(): Promise<string> {
  teacherFile ??= (async () => {
    const r = await M.trainText({ corpus: D.corpusFromText(text, { name: "t" }), steps: 120, model: { nEmbd: 32, nLayer: 1, nHead: 2, blockSize: 32 }, lr: 5e-3, warmupSteps: 10, evalEvery: 120 });
    const f = join(dir, "teacher.safetensors");
    writeFileSync(f, M.serializeModelFile(r.model));
    return f;
  })();
  return teacherFile;
}

function config(name: string, gate: number, steps: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, `name: ${name}\ndata: ${corpusFile}\nteacher: { checkpoint: teacher.safetensors }\ngate: { max_val_loss_increase: ${gate} }\nout: out-${name}\nsteps:\n${steps}`);
  return f;
}

test("cli - compress runs the pipeline from a config and prints the report; the GGUF loads back", async () => {
  await teacher();
  const f = config("ok", 0.5, [
    "  - { kind: distill, steps: 10, top_k: 8 }",
    "  - { kind: prune, prune: channels, sparsity: 0.5, steps: 20 }",
    "  - { kind: quantize, method: qat, format: q4_0, steps: 10 }",
    "  - { kind: finetune, steps: 5 }",
    "  - { kind: export, type: q4_0, path: m.gguf }",
  ].join("\n") + "\n");
  const r = json(await troupe(["compress", f, "--json"]));
  assert.deepEqual(r.steps.map((s: { step: string }) => s.step), ["distill", "prune", "quantize", "finetune", "export"]);
  for (const s of r.steps) assert.ok(s.bytes > 0 && Number.isFinite(s.val_loss) && s.passed);
  assert.ok(r.compression > 4, `compression ${r.compression}`);
  assert.equal(r.compression, Math.round((r.teacher.bytes / r.steps[4].bytes) * 1000) / 1000);
  assert.equal(r.val_loss_increase, r.steps[4].val_loss_increase);
  assert.equal(r.steps[1].detail.mlp_hidden, 64);
  const gguf = join(dir, "out-ok", "m.gguf");
  assert.ok(existsSync(gguf) && existsSync(join(dir, "out-ok", "compress-report.json")));
  assert.equal((M.readGgufModel(gguf) as M.GPT).config.mlpHidden, 64);
});

test("cli - a gate that does not hold stops the pipeline there with exit 1", async () => {
  await teacher();
  const f = config("gate", 0, "  - { kind: prune, prune: magnitude, sparsity: 0.95, steps: 2, distill: false }\n  - { kind: export, type: f32, path: never.gguf }\n");
  const r = json(await troupe(["compress", f, "--json"]), 1);
  assert.equal(r.passed, false);
  assert.equal(r.stopped_at, "prune");
  assert.equal(r.steps.length, 1);
  assert.ok(r.steps[0].val_loss_increase > 0);
  assert.equal(existsSync(join(dir, "out-gate", "never.gguf")), false, "nothing after the failed gate runs");
});

test("cli - export, quantize, prune and distill write what the next command loads", async () => {
  const t = await teacher();
  const e = json(await troupe(["export", "--checkpoint", t, "--type", "q8_0", "--out", "t.q8_0.gguf", "--json"]));
  assert.equal(e.type, "q8_0");
  assert.ok(M.readGgufModel(join(dir, "t.q8_0.gguf")));
  const q = json(await troupe(["quantize", "--checkpoint", t, "--bits", "4", "--method", "ptq", "--data", corpusFile, "--activations", "8", "--calibration", "minmax", "--out", "t.q4.gguf", "--json"]));
  assert.ok(q.val_loss >= q.f32_val_loss * 0.95 && q.bytes < e.bytes);
  assert.equal(q.activations.bits, 8);
  assert.ok(Number.isFinite(q.activations.val_loss));
  const p = json(await troupe(["prune", "--checkpoint", t, "--kind", "channels", "--sparsity", "0.25", "--steps", "10", "--data", corpusFile, "--out", "pruned", "--json"]));
  assert.equal(p.config.mlp_hidden, 96, "--json keys are snake_case (#10)");
  assert.ok(p.parameters < p.parameters_before);
  const d = json(await troupe(["distill", "--teacher", join(dir, "pruned", "model.safetensors"), t, "--embd", "32", "--steps", "10", "--top-k", "16", "--data", corpusFile, "--out", "student", "--json"]));
  assert.equal(d.top_k, 16);
  assert.ok(Number.isFinite(d.val_loss));
  const back = json(await troupe(["export", "--checkpoint", join(dir, "student", "model.safetensors"), "--type", "f16", "--out", "s.gguf", "--json"]));
  assert.equal(back.config.n_embd, 32);
  void K;
});

test("cli - bad compression configs and flags are usage errors that say what is wrong", async () => {
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "name: bad\ndata: x.txt\nteacher: { train_steps: 10 }\nsteps:\n  - { kind: squash, steps: 3 }\n  - { kind: quantize, method: qat, format: q4_0 }\n");
  const r = await troupe(["compress", bad]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /bad.yaml:5 steps.0.kind: expected one of: distill, prune, quantize, finetune, export; got "squash"/);
  const q = await troupe(["quantize", "--checkpoint", "x", "--bits", "3", "--out", "y.gguf"]);
  assert.equal(q.code, 2);
  assert.match(q.stderr, /--bits must be 8 or 4/);
  const x = await troupe(["export", "--checkpoint", "x", "--type", "q5_1", "--out", "y.gguf"]);
  assert.equal(x.code, 2);
  assert.match(x.stderr, /--type must be one of f32, f16, q8_0, q4_0/);
});
