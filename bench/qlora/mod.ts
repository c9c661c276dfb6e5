// `troupe bench qlora`: QLoRA (the base's Linear layers in 4-bit blocks, dequantised inside the
// GEMM) against LoRA on the f32 base, in one run, each side in its own child process (peak RSS
// is per process): memory on a Llama of >= 200M parameters over a few steps, validation loss
// and tokens/s on a >= 30M Llama over a few hundred steps (300) of tinyshakespeare bytes.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LlamaConfig } from "../../kernels/mod.js";
import type { RssBreakdown, SideOptions, SideResult } from "./side.js";

const sideScript = fileURLToPath(new URL("./side.js", import.meta.url));

/** ~212M parameters: hidden 1024, 18 layers, intermediate 2816, 16 heads, 8 kv heads, bytes. */
export const QLORA_MEMORY_CONFIG: LlamaConfig = { vocabSize: 256, hiddenSize: 1024, intermediateSize: 2816, numHeads: 16, numKvHeads: 8, numLayers: 18, maxPositions: 256 };
/** ~31.7M parameters: hidden 512, 10 layers, intermediate 1536, 8 heads, 4 kv heads, bytes. */
export const QLORA_QUALITY_CONFIG: LlamaConfig = { vocabSize: 256, hiddenSize: 512, intermediateSize: 1536, numHeads: 8, numKvHeads: 4, numLayers: 10, maxPositions: 256 };

export interface QloraBenchOptions {
  readonly data: string;
  readonly bits?: 4 | 8;
  readonly memoryConfig?: LlamaConfig;
  readonly memorySteps?: number;
  readonly qualityConfig?: LlamaConfig;
  readonly qualitySteps?: number;
  readonly onProgress?: (line: string) => void;
}

export interface QloraBenchReport {
  readonly memory: {
    params: number; lora_peak_rss_mb: number; qlora_peak_rss_mb: number; rss_ratio: number; steps: number; bits: number;
    /** What each side's peak is made of (MB). */
    lora_rss_mb: RssBreakdown; qlora_rss_mb: RssBreakdown;
  };
  readonly quality: {
    params: number; lora_val_loss: number; qlora_val_loss: number; val_loss_ratio: number; speed_ratio: number;
    lora_tokens_per_s: number; qlora_tokens_per_s: number; steps: number; bits: number;
  };
}

function side(o: SideOptions): SideResult {
  const r = spawnSync(process.execPath, [sideScript, JSON.stringify(o)], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench qlora: the ${o.side} side failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as SideResult;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

export function runQloraBench(o: QloraBenchOptions): QloraBenchReport {
  const bits = o.bits ?? 4;
  const say = o.onProgress ?? (() => {});
  const mem = { bits, config: o.memoryConfig ?? QLORA_MEMORY_CONFIG, rank: 16, steps: o.memorySteps ?? 3, batch: 1, seq: 64, lr: 1e-3, data: null, valBatches: 0, seed: 1 } as const;
  say(`[bench] qlora memory: ${mem.steps} steps of each side in its own process ...`);
  const ml = side({ ...mem, side: "lora" });
  say(`[bench] lora: ${ml.params} params, peak RSS ${ml.peak_rss_mb} MB`);
  const mq = side({ ...mem, side: "qlora" });
  say(`[bench] qlora: peak RSS ${mq.peak_rss_mb} MB`);
  const q = { bits, config: o.qualityConfig ?? QLORA_QUALITY_CONFIG, rank: 16, steps: o.qualitySteps ?? 300, batch: 2, seq: 64, lr: 2e-3, data: o.data, valBatches: 32, seed: 2 } as const;
  say(`[bench] qlora quality: ${q.steps} steps of each side ...`);
  const ql = side({ ...q, side: "lora" });
  say(`[bench] lora: val ${ql.val_loss}, ${ql.tokens_per_s} tok/s`);
  const qq = side({ ...q, side: "qlora" });
  say(`[bench] qlora: val ${qq.val_loss}, ${qq.tokens_per_s} tok/s`);
  return {
    memory: { params: ml.params, lora_peak_rss_mb: ml.peak_rss_mb, qlora_peak_rss_mb: mq.peak_rss_mb, rss_ratio: round(mq.peak_rss_mb / ml.peak_rss_mb), steps: mem.steps, bits, lora_rss_mb: ml.rss, qlora_rss_mb: mq.rss },
    quality: {
      params: ql.params, lora_val_loss: round(ql.val_loss!, 4), qlora_val_loss: round(qq.val_loss!, 4), val_loss_ratio: round(qq.val_loss! / ql.val_loss!, 4),
      speed_ratio: round(qq.tokens_per_s / ql.tokens_per_s), lora_tokens_per_s: ql.tokens_per_s, qlora_tokens_per_s: qq.tokens_per_s, steps: q.steps, bits,
    },
  };
}
