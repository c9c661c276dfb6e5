// bench qlora on tiny Llamas (the figures themselves come from the full bench): the report's
// shape, each side's peak RSS broken down into parts that add up to it, the quantised base
// smaller than the f32 one, both sides training the same number of parameters, and the quality
// part adapting a pretrained base that is cached by its settings and text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pretrainedBase, runQloraBench, unigramValLoss } from "../../bench/qlora/mod.js";

const config = { vocabSize: 256, hiddenSize: 256, intermediateSize: 768, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 128 };
const text = "To be, or not to be, that is the question. Whether 'tis nobler in the mind to suffer. ".repeat(120);

test("bench qlora - tiny Llamas: the report's fields, peak RSS parts that add up, a smaller quantised base, a pretrained base", () => {
  const dir = mkdtempSync(join(tmpdir(), "qlora-bench-"));
  try {
    const data = join(dir, "text.txt");
    writeFileSync(data, text);
    const cacheDir = join(dir, "cache");
    const lines: string[] = [];
    const r = runQloraBench({ data, memoryConfig: config, memorySteps: 2, qualityConfig: config, qualitySteps: 3, pretrainSteps: 30, cacheDir, onProgress: (l) => lines.push(l) });
    const m = r.memory;
    assert.equal(m.steps, 2);
    assert.equal(m.bits, 4);
    assert.ok(m.params > 1_500_000, `${m.params} parameters counted on both sides (quantised weights included)`);
    for (const [peak, parts] of [[m.lora_peak_rss_mb, m.lora_rss_mb], [m.qlora_peak_rss_mb, m.qlora_rss_mb]] as const) {
      assert.equal(parts.start + parts.base + parts.adapters + parts.workspace + parts.other, peak, JSON.stringify(parts));
      assert.ok(parts.start > 0 && parts.adapters >= 0 && parts.workspace >= 0);
    }
    assert.ok(m.qlora_rss_mb.base < m.lora_rss_mb.base, `quantised base ${m.qlora_rss_mb.base} MB vs f32 ${m.lora_rss_mb.base} MB`);
    assert.equal(m.rss_ratio, Math.round((m.qlora_peak_rss_mb / m.lora_peak_rss_mb) * 1000) / 1000);
    const q = r.quality;
    assert.equal(q.steps, 3);
    assert.equal(q.params, m.params);
    assert.ok(Number.isFinite(q.lora_val_loss) && Number.isFinite(q.qlora_val_loss));
    assert.notEqual(q.lora_val_loss, q.qlora_val_loss, "the 4-bit base is not the f32 one");
    assert.ok(q.lora_tokens_per_s > 0 && q.qlora_tokens_per_s > 0);
    // The base was pretrained here (a random one sits at ln 256 = 5.55 on bytes), and rounding it moved its loss.
    assert.equal(q.base.cached, false);
    assert.equal(q.base.pretrain_steps, 30);
    assert.ok(q.base_val_loss < 4, `pretrained base val ${q.base_val_loss}`);
    assert.notEqual(q.qbase_val_loss, q.base_val_loss, "the quantised base is evaluated as quantised");
    assert.ok(Math.abs(q.qbase_val_loss - q.base_val_loss) < 0.5, `${q.qbase_val_loss} vs ${q.base_val_loss}`);
    // Another batch order: the same base, another adapted result.
    assert.notEqual(q.lora_reseeded_val_loss, q.lora_val_loss);
    assert.ok(Math.abs(q.noise_ratio - q.lora_reseeded_val_loss / q.lora_val_loss) < 2e-4, `noise_ratio ${q.noise_ratio} (of the unrounded losses)`);
    assert.ok(q.unigram_val_loss > 1 && q.unigram_val_loss < 5.55, `unigram ${q.unigram_val_loss}`);
    assert.equal(lines.length, 9, lines.join("\n"));
    assert.ok(lines.some((l) => l.includes("pretraining the base")));

    // Cached by settings and text: the same call reuses it, --fresh, other steps or another text do not.
    const again = pretrainedBase({ data, config, steps: 30, cacheDir });
    assert.equal(again.cached, true);
    assert.equal(again.file, q.base.file);
    assert.equal(pretrainedBase({ data, config, steps: 30, cacheDir, fresh: true }).cached, false);
    assert.equal(pretrainedBase({ data, config, steps: 2, cacheDir }).cached, false);
    writeFileSync(data, text.toUpperCase());
    const other = pretrainedBase({ data, config, steps: 2, cacheDir });
    assert.equal(other.cached, false);
    assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith(".safetensors")).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench qlora - the unigram reference: the held-out tenth under the training bytes' frequencies", () => {
  const dir = mkdtempSync(join(tmpdir(), "qlora-unigram-"));
  try {
    const data = join(dir, "t.txt");
    writeFileSync(data, "a".repeat(900) + "a".repeat(100));
    const one = unigramValLoss(data);
    assert.ok(one > 0 && one < 0.5, `one byte only: ${one}`);
    writeFileSync(data, "ab".repeat(450) + "ab".repeat(50));
    const two = unigramValLoss(data);
    assert.ok(Math.abs(two - Math.log(2)) < 0.3 && two > one, `two bytes: ${two}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
