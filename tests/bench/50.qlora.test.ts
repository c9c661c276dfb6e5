// bench qlora on tiny Llamas (the figures themselves come from the full bench): the report's
// shape, each side's peak RSS broken down into parts that add up to it, the quantised base
// smaller than the f32 one, and both sides training the same number of parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runQloraBench } from "../../bench/qlora/mod.js";

test("bench qlora - tiny Llamas: the report's fields, peak RSS parts that add up, a smaller quantised base", () => {
  const dir = mkdtempSync(join(tmpdir(), "qlora-bench-"));
  try {
    const data = join(dir, "text.txt");
    writeFileSync(data, "To be, or not to be, that is the question. ".repeat(200));
    const config = { vocabSize: 256, hiddenSize: 256, intermediateSize: 768, numHeads: 4, numKvHeads: 2, numLayers: 2, maxPositions: 128 };
    const lines: string[] = [];
    const r = runQloraBench({ data, memoryConfig: config, memorySteps: 2, qualityConfig: config, qualitySteps: 3, onProgress: (l) => lines.push(l) });
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
    assert.equal(lines.length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
