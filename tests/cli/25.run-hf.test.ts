// troupe run with `model: { hf: DIR }`: the base is a Hugging Face Llama directory (fine-tuned on
// a lane before stage 0), the teacher captures its hidden states, and stage 1's LoRA wraps the
// Llama's own layers (q_proj, v_proj) of the blocks the scenario names. Plus the scenario
// errors: sizes given twice, a vocabulary bytes do not fit, a layer name the model lacks. (issue 15)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as M from "../../models/mod.js";
import { loadScenario, isScenarioError } from "../../scenarios/mod.js";
import { startNats, uniqueName } from "../harness/mod.js";
import { connectNats, objectCheckpointStore } from "../../hosts/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

function troupe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function scenario(model: string): string {
  return `run: { name: hf-llama, seed: 3, out_dir: runs }
model:
${model}
data:
  lanes:
    base: { kind: prompt_pack, seed: 5, domains: [copying, sorting], difficulty: [easy], count: 400, split: train }
    counting: { kind: prompt_pack, seed: 5, domains: [counting], difficulty: [easy], count: 200, split: train }
    heldout: { kind: prompt_pack, seed: 5, domains: [copying, counting], difficulty: [easy], count: 40, split: heldout }
curriculum:
  defaults: { batch: 8 }
  stages:
    # the plumbing is the subject here, not quality: both gates (against the best trivial answer)
    # and the split agreement are set so a 30-step base and a 40-step adapter pass them; stage 0's
    # required checks on the record still apply
    - { stage: 0, layers: [0, 1], steps: 2, lane: heldout, eval_lane: heldout, split_agreement: 0.01, gate: { metric: base_em_gain, min: -1 } }
    - { stage: 1, steps: 40, lr: 3.0e-3, lane: counting, eval_lane: heldout, gate: { metric: em_gain, min: -1 } }
limits: { run_timeout_s: 300, attempt_timeout_s: 200, checkpoint_every: 20 }
`;
}

function llamaDir(dir: string, vocab = 256): string {
  const m = M.createModel("llama", { vocabSize: vocab, hiddenSize: 32, intermediateSize: 64, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 40 }, 1);
  M.saveHfModel(m, join(dir, "llama"));
  return join(dir, "llama");
}

test("scenarios - model.hf takes its sizes from config.json; sizes given twice, a vocabulary too small for bytes, a directory with its own tokenizer and a layer the model lacks are errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-hf-scn-"));
  try {
    llamaDir(dir);
    const ok = join(dir, "ok.yaml");
    writeFileSync(ok, scenario("  hf: llama\n  lora: { r: 4, alpha: 8, targets: [q_proj, v_proj], blocks: [1] }"));
    const plan = loadScenario(ok);
    assert.deepEqual({ arch: plan.model.arch, vocab: plan.model.vocab, block: plan.model.block, nLayer: plan.model.nLayer }, { arch: "llama", vocab: 256, block: 40, nLayer: 2 });
    assert.equal(plan.model.hf, join(dir, "llama"));
    const bad = join(dir, "bad.yaml");
    M.saveHfModel(M.createModel("llama", { vocabSize: 80, hiddenSize: 16, intermediateSize: 32, numHeads: 2, numLayers: 1, maxPositions: 8 }, 1), join(dir, "small"));
    M.saveHfModel(M.createModel("llama", { vocabSize: 300, hiddenSize: 16, intermediateSize: 32, numHeads: 2, numLayers: 1, maxPositions: 8 }, 1), join(dir, "withtok"));
    writeFileSync(join(dir, "withtok", "tokenizer.json"), "{}");
    for (const [model, want] of [
      ["  hf: llama\n  n_embd: 32", /model\.n_embd.*takes its sizes from the directory's config\.json; remove n_embd/],
      ["  hf: small", /model\.hf.*has a vocabulary of 80; the data lanes use troupe's byte tokenizer, which needs 256/],
      ["  hf: llama\n  lora: { r: 4, alpha: 8, targets: [qkv] }", /model\.lora\.targets\.0: llama has no layer "qkv"; its layers: q_proj, k_proj/],
      ["  hf: withtok", /model\.hf.*ships tokenizer\.json, but a scenario's data lanes use troupe's byte tokenizer/],
      ["  hf: nowhere", /model\.hf.*not a model directory troupe reads: .*config\.json: not found/],
      ["  vocab: 256\n  block: 8", /model\.n_embd: missing; expected an integer \(or give model\.hf: a Hugging Face model directory\)/],
    ] as const) {
      writeFileSync(bad, scenario(model));
      assert.throws(() => loadScenario(bad), (e: unknown) => isScenarioError(e) && want.test((e as Error).message), model);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("run - a scenario on a Hugging Face Llama: the base is fine-tuned from its weights, stage 0 captures its layers, stage 1 adapts q_proj/v_proj of block 1", async () => {
  await using nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), "troupe-hf-run-"));
  try {
    llamaDir(dir);
    const file = join(dir, "s.yaml");
    writeFileSync(file, scenario(`  hf: llama
  base:
    pretrain: { lane: base, steps: 30, lr: 3.0e-3, batch: 8 }
  lora: { r: 4, alpha: 8, targets: [q_proj, v_proj], blocks: [1] }`));
    const id = uniqueName("hfllama");
    const r = await troupe(["run", file, "--json", "--nats", nats.url, "--run-id", id, "--out-dir", join(dir, "runs")]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const s = JSON.parse(r.stdout.trim());
    assert.equal(s.outcome, "done");
    const report = JSON.parse(readFileSync(s.report.json, "utf8"));
    const st0 = report.stages.find((x: { stage: number }) => x.stage === 0);
    assert.deepEqual(st0.attempt_reports[0].details.split_layer_map.layers, [0, 1]);
    const st1 = report.stages.find((x: { stage: number }) => x.stage === 1);
    assert.ok(st1.series[0].terms.sft.points.length > 5, "stage 1 trained");
    // the stage-1 checkpoint: a Llama whose adapter wraps exactly block 1's q_proj and v_proj
    const nc = await connectNats(nats.url);
    try {
      const ck = await objectCheckpointStore(nc, { bucket: "checkpoints" }).load({ run: id, stage: "s1-a1", step: 40, kind: "step" });
      const { model, spec } = M.modelFromCheckpoint(ck);
      assert.equal(spec.arch, "llama");
      assert.deepEqual(spec.lora!.layers, ["model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"]);
      assert.equal(model.dims.layers, 2);
    } finally {
      await nc.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
