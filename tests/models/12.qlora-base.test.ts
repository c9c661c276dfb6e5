// models - QLoRA's base (models/lora/quantize.ts): createQuantized quantises each Linear as it is
// made, so the f32 base never exists whole. Measured in a child process (node --expose-gc, as
// bench qlora runs its sides) by its peak RSS over the model's construction (the peak reset
// through /proc/self/clear_refs just before): far under the f32 base's bytes, where building
// the f32 model first and quantising it after (quantizeBase) reaches them (the measure can fail).
// And QLoRA's training path (loraLinear on the quantised weights) trains exactly as LoRA on an
// f32 copy holding the dequantised weights: what the quantised base changes is its rounding only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { K, M } from "./helpers.js";

const kUrl = new URL("../../kernels/mod.js", import.meta.url).href;
const mUrl = new URL("../../models/mod.js", import.meta.url).href;
/** ~12.6M parameters in its Linear layers (46 MB in f32, 7 MB in 4-bit blocks); k/v projections
 * of 4 × 64 outputs, as many as the vocabulary (the head is not told apart by its shape). */
const CONFIG = { vocabSize: 256, hiddenSize: 512, intermediateSize: 1536, numHeads: 8, numKvHeads: 4, numLayers: 4, maxPositions: 64 };

function build(how: "createQuantized" | "quantizeBase"): { growth: number; f32: number; quantized: number; layers: number } {
  const script = `
    import { readFileSync, writeFileSync } from "node:fs";
    const K = await import(${JSON.stringify(kUrl)});
    const M = await import(${JSON.stringify(mUrl)});
    const status = (k) => Number(readFileSync("/proc/self/status", "utf8").match(new RegExp(k + ":\\\\s+(\\\\d+)"))[1]) * 1024;
    const arch = M.architecture("llama");
    const config = arch.resolve(${JSON.stringify(CONFIG)});
    globalThis.gc();
    writeFileSync("/proc/self/clear_refs", "5"); // the peak RSS starts again from the RSS now
    const before = status("VmRSS");
    let base;
    const model = ${JSON.stringify(how)} === "createQuantized"
      ? M.createQuantized(arch, config, 4, K.createRng(1))
      : (() => { const m = arch.create(config, K.createRng(1)); base = M.quantizeBase(m, 4); return m; })();
    const growth = status("VmHWM") - before;
    let f32 = 0, quantized = 0, layers = 0;
    for (const [, m] of model.namedModules()) if (m.quantized) { layers++; f32 += 4 * m.quantized.rows * m.quantized.cols; quantized += K.quantizedBytes(m.quantized); }
    console.log(JSON.stringify({ growth, f32, quantized, layers }));`;
  const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as { growth: number; f32: number; quantized: number; layers: number };
}

test("qlora - createQuantized never holds the f32 base: its peak RSS over construction stays under the quantised layers + one f32 weight + 16 MB; f32 first then quantizeBase goes past the f32 bytes", () => {
  const q = build("createQuantized");
  const f = build("quantizeBase");
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  assert.equal(q.layers, 4 * 7, "every Linear of the blocks (k_proj and v_proj too), not the head");
  assert.equal(f.layers, q.layers);
  assert.equal(q.quantized, (q.f32 / 4) * (0.5 + 4 / 32), "4-bit codes and an f32 scale per 32 elements");
  // the quantised layers, one f32 weight (the scratch: 1536 × 512), and room for V8 and malloc
  const bound = q.quantized + 4 * 1536 * 512 + 16 * 2 ** 20;
  assert.ok(bound < 0.6 * q.f32);
  assert.ok(q.growth < bound, `createQuantized: peak growth ${mb(q.growth)} for an f32 base of ${mb(q.f32)} (bound ${mb(bound)})`);
  assert.ok(f.growth > f.f32 && f.growth > bound, `quantizeBase after an f32 model: peak growth ${mb(f.growth)} for an f32 base of ${mb(f.f32)}`);
});

test("qlora - training on the 4-bit base equals LoRA on its dequantised f32 copy step for step, and differs from LoRA on the f32 base it came from", () => {
  const arch = M.architecture("llama");
  const config = arch.resolve({ vocabSize: 64, hiddenSize: 64, intermediateSize: 96, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 16 });
  const quantized = M.createQuantized(arch, config, 4, K.createRng(7));
  const original = arch.create(config, K.createRng(7));
  const dequantised = arch.create(config, K.createRng(7));
  const linears = new Map(dequantised.namedModules());
  let swapped = 0;
  for (const [path, m] of quantized.namedModules()) {
    const q = (m as { quantized?: K.QuantizedWeight | null }).quantized;
    if (!q) continue;
    (linears.get(path) as K.Linear).weight.f32().set(K.dequantize(q).f32());
    swapped++;
  }
  assert.equal(swapped, 2 * 7);
  const train = (model: typeof original) => {
    model.freeze();
    M.applyLora(model, { rank: 4, alpha: 8, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] }, { seed: 3 });
    const opt = K.adamw(M.adapterParameters(model), { lr: 1e-2, weightDecay: 0 });
    const rng = K.createRng(4);
    const ws = K.workspace();
    const losses: number[] = [];
    for (let s = 0; s < 6; s++) {
      const idx = K.fromArray(Int32Array.from({ length: 2 * 16 }, () => rng.int(64)), [2, 16]);
      const tgt = K.fromArray(Int32Array.from({ length: 2 * 16 }, () => rng.int(64)), [2, 16]);
      opt.zeroGrad();
      losses.push(ws.run(() => {
        const loss = K.crossEntropy(model.forward(idx), tgt);
        K.backward(loss);
        return loss.item();
      }));
      opt.step();
    }
    return losses;
  };
  const q = train(quantized), d = train(dequantised), f = train(original);
  for (let s = 0; s < q.length; s++) assert.ok(Math.abs(q[s]! - d[s]!) < 1e-5, `step ${s}: QLoRA ${q[s]} vs LoRA on the dequantised base ${d[s]}`);
  assert.ok(Math.max(...q.map((v, s) => Math.abs(v - f[s]!))) > 1e-4, `the 4-bit rounding changes the losses: ${q} vs ${f}`);
});
