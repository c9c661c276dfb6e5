// kernels - the PyTorch reference fixtures: the GPT (forward, loss, every gradient, ten AdamW
// steps), the LoRA fixture reproduced by composing ops on a frozen base, and vectors.json.
// What verify must reject is in 91.verify-bounds; the many-seed sweep in 92.verify-sweep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testNeeding } from "../harness/needs.js";
import { K, assertClose, fixturesDir, maxAbsDiff, sharedFixture, sharedMissing } from "./helpers.js";

function expectOk(path: string): K.VerifyReport {
  const r = K.verifyFixture(path);
  for (const [k, c] of Object.entries(r.checks)) {
    assert.ok(c.ok, `${path}: ${k} is ${c.worst_ratio} of its bound at ${c.worst} (max |diff| ${c.max_abs_diff})`);
  }
  assert.equal(r.ok, true);
  for (const k of ["logits", "loss", "grads", "train_losses", "after_params"] as const) assert.ok(r.checks[k].elements > 0, `${k} compared nothing`);
  return r;
}

testNeeding("reference - gpt_reference.safetensors (shared PyTorch fixture) within its bounds", sharedMissing("gpt_reference.safetensors"), () => {
  const r = expectOk(sharedFixture("gpt_reference.safetensors")!);
  assert.equal(r.checks.grads.tensors, 28);
  assert.equal(r.checks.train_losses.elements, 10);
  // the attention key bias has a zero gradient in exact arithmetic: its elements are the small ones
  assert.ok(r.checks.after_small_grad.elements >= 2 * 32, `${r.checks.after_small_grad.elements} small-gradient elements`);
});

test("reference - a fixture with odd sizes, T < block_size and ignored targets", () => {
  expectOk(join(fixturesDir, "gpt_odd.safetensors"));
});

test("reference - a fixture with an untied lm_head", () => {
  expectOk(join(fixturesDir, "gpt_untied.safetensors"));
});

testNeeding("reference - the LoRA fixture: y = W x + b + scale * B(A x) on a frozen base", sharedMissing("lora_reference.safetensors"), () => {
  const { tensors: t, metadata } = K.readSafetensors(sharedFixture("lora_reference.safetensors")!);
  const cfg = K.gptConfigOf(JSON.parse(metadata.config!) as K.FixtureConfig);
  const model = new K.GPT(cfg, K.createRng(0));
  model.loadStateDict(t, { strict: false });
  model.freeze();
  const scale = Number(metadata.lora_alpha) / Number(metadata.lora_r);
  class LoRA extends K.Module {
    constructor(readonly base: K.Linear, A: K.Tensor, B: K.Tensor) {
      super();
      this.addModule("base", base, { inline: true });
      this.addParameter("lora_A", K.clone(A));
      this.addParameter("lora_B", K.clone(B));
    }
    forward(x: K.Tensor): K.Tensor {
      const low = K.linear(K.linear(x, this.param("lora_A")), this.param("lora_B"));
      return K.add(this.base.forward(x), K.scale(low, scale));
    }
  }
  for (let i = 0; i < cfg.nLayer; i++) {
    for (const m of metadata.targets!.split(",")) {
      const p = `h.${i}.${m}`;
      model.replaceModule(p, new LoRA(model.getModule(p) as K.Linear, t.get(`${p}.lora_A`)!, t.get(`${p}.lora_B`)!));
    }
  }
  const logits = model.forward(t.get("input.idx")!);
  const loss = K.crossEntropy(logits, t.get("input.targets")!);
  assert.ok(maxAbsDiff(logits.f32(), t.get("out.logits")!.f32()) < 1e-4, "logits");
  assert.ok(Math.abs(loss.item() - t.get("out.loss")!.item()) < 1e-4, "loss");
  K.backward(loss);
  let checked = 0;
  for (const [n, p] of model.namedParameters()) {
    const want = t.get(`grad.${n}`);
    if (n.includes("lora_")) {
      assert.ok(want, n);
      assertClose(p.grad!.f32(), want!.f32(), 1e-4, 0, `grad ${n}`);
      checked++;
    } else {
      assert.equal(p.grad, null, `${n} is frozen`);
    }
  }
  assert.equal(checked, 4 * cfg.nLayer);
});

testNeeding("reference - vectors.json: tanh-GELU, LayerNorm and distillation KL", sharedMissing("vectors.json"), () => {
  const v = JSON.parse(readFileSync(sharedFixture("vectors.json")!, "utf8"));
  assertClose(K.gelu(K.tensor(v.gelu_tanh.x)).f32(), v.gelu_tanh.y, 1e-6, 1e-6, "gelu");
  const ln = v.layernorm;
  const x = K.tensor(ln.x.flat(), [ln.x.length, ln.x[0].length]);
  assertClose(K.layerNorm(x, K.tensor(ln.weight), K.tensor(ln.bias), ln.eps).f32(), ln.y.flat(), 1e-5, 1e-5, "layernorm");
  const s = K.tensor(v.kd.student_logits, [1, 3]);
  const te = K.tensor(v.kd.teacher_logits, [1, 3]);
  const T = v.kd.temperature;
  assert.ok(Math.abs(K.klDivergence(s, te, { temperature: T }).item() - v.kd.kl_teacher_to_student) < 1e-6);
  assert.ok(Math.abs(K.klDivergence(s, te, { temperature: T, scaleByTemperatureSquared: true }).item() - v.kd.kl_times_T2) < 1e-5);
});
