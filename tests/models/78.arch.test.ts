// models - the architecture registry: both architectures build, capture, decode and report their
// sizes through one interface; GPT-2's Hugging Face names and layouts map both ways; unknown
// model_types are refused; specs and adapter digests written before architectures existed
// still load. (issue 15)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { K, M, bitwiseEqual, repoRoot, tinyGpt, tinyLlama } from "./helpers.js";

test("arch - the registry has gpt2 and llama; an unknown model_type lists them", () => {
  assert.deepEqual(M.architectureNames(), ["gpt2", "llama"]);
  assert.throws(() => M.architecture("mistral", "x/config.json"), (e: unknown) => M.isUnknownArchitectureError(e) && /x\/config\.json: unknown model_type "mistral"; troupe has "gpt2", "llama"/.test((e as Error).message));
  assert.throws(() => M.createModel("llama", { vocabSize: 10, hiddenSize: 12, intermediateSize: 8, numHeads: 5, numLayers: 1, maxPositions: 4 }), (e: unknown) => M.isModelConfigError(e) && /multiple of "numHeads"/.test((e as Error).message));
});

for (const [name, make] of [["gpt2", () => tinyGpt(2)], ["llama", () => tinyLlama(3)]] as const) {
  test(`arch - ${name}: capture, the logit lens and resumeFrom agree with the forward pass`, () => {
    const model = make();
    const { layers: L, vocabSize: V, hidden: C } = model.dims;
    const idx = K.randint([2, 6], V, K.createRng(1));
    const { logits, hidden } = M.captureHidden(model, idx, [0, 1, L]);
    assert.deepEqual([...hidden.get(1)!.shape], [2, 6, C]);
    assert.ok(bitwiseEqual(K.noGrad(() => M.logitLens(model, hidden.get(L)!, L)).f32(), logits.f32()), "the last layer's lens is the logits");
    for (const l of [0, 1]) assert.ok(bitwiseEqual(K.noGrad(() => model.resumeFrom(hidden.get(l)!, l)).f32(), logits.f32()), `resumeFrom(${l})`);
    assert.throws(() => model.resumeFrom(hidden.get(0)!, L + 1), /Expected 0 <= from <= to <= \d+ \(residual-stream indices/);
    assert.ok(bitwiseEqual(K.noGrad(() => model.runBlocks(hidden.get(0)!, 0, 1)).f32(), hidden.get(1)!.f32()), "runBlocks(0, 1) is block 0");
  });
}

test("arch - gpt2's Hugging Face names: Conv1D weights transposed, module paths both ways", () => {
  const g = M.architecture("gpt2");
  const model = tinyGpt(1, { tiedLmHead: false });
  for (const [n] of model.namedParameters()) {
    const { name, transpose } = g.hfTensor(n);
    assert.equal(transpose, /\.(qkv|proj|fc|fc_proj)\.weight$/.test(n), n);
    const module = n.slice(0, n.lastIndexOf("."));
    assert.equal(g.moduleFromHf(g.hfModule(module)), module, module);
    assert.ok(name.startsWith(module === "lm_head" ? "lm_head" : "transformer."), name);
  }
  assert.equal(g.hfTensor("h.3.fc_proj.bias").name, "transformer.h.3.mlp.c_proj.bias");
  assert.equal(g.moduleFromHf("h.0.attn.c_attn"), "h.0.qkv", "without the transformer. prefix too");
  assert.equal(g.isHfBuffer("transformer.h.2.attn.masked_bias"), true);
  const l = M.architecture("llama");
  assert.equal(l.moduleFromHf("model.layers.3.mlp.up_proj"), "model.layers.3.mlp.up_proj");
  assert.equal(l.moduleFromHf("model.layers.3.mlp.act_fn"), null);
  assert.equal(l.blockTarget(2, "q_proj"), "model.layers.2.*.q_proj");
  assert.deepEqual(M.applyLora(tinyLlama(1), { rank: 2, targets: [l.blockTarget(1, "q_proj")] }).targets, ["model.layers.1.self_attn.q_proj"]);
  assert.deepEqual(M.applyLora(tinyLlama(1), { rank: 2 }).targets.length, 4, "PEFT's default for llama: q_proj and v_proj of both blocks");
});

test("arch - specs from before architectures ({ gpt }) load as gpt2, and gpt2's config digest is the old one (old adapters attach)", () => {
  const model = tinyGpt(4);
  const legacy = { gpt: { ...model.config }, lora: null, tokenizer: "bytes" as const };
  const spec = M.checkSpec(legacy, "old-checkpoint");
  assert.equal(spec.arch, "gpt2");
  const rebuilt = M.buildModel(legacy, 0);
  assert.equal(rebuilt.arch, "gpt2");
  assert.equal(M.modelDigest(model), M.configDigest(model.config), "the digest old adapter files recorded");
  assert.notEqual(M.modelDigest(tinyLlama(1)), M.modelDigest(tinyLlama(1, { numKvHeads: 4 })));
});

test("arch - nothing above models/ branches on an architecture's name", () => {
  // guards issue 15: actors, scenarios and cli reach architectures only through the registry
  const branching = /\barch\w*\s*[!=]==?\s*"(gpt2|llama)"|"(gpt2|llama)"\s*[!=]==?|instanceof\s+(GPT|Llama)\b|case\s+"(gpt2|llama)"/;
  for (const bad of ['if (model.arch === "llama") x()', 'm instanceof Llama', 'switch (a) { case "gpt2": }']) assert.ok(branching.test(bad), `the check catches ${bad}`);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) {
        const src = readFileSync(join(repoRoot, p), "utf8");
        if (branching.test(src)) offenders.push(p);
      }
    }
  };
  for (const d of ["actors", "scenarios", "cli", "hosts"]) walk(d);
  assert.deepEqual(offenders, []);
});
