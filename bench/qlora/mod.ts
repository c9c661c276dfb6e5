// `troupe bench qlora`: QLoRA (the base's Linear layers in 4-bit blocks, dequantised inside the
// GEMM) against LoRA on the f32 base, in one run, each side in its own child process (peak RSS
// is per process): memory on a Llama of >= 200M parameters over a few steps, validation loss
// and tokens/s on a >= 30M Llama over a few hundred steps (300) of tinyshakespeare bytes.
// The quality part adapts a *pretrained* base, as QLoRA is meant to: the bench pretrains the
// 30M Llama itself (every parameter, f32, on the training nine tenths of the text) and caches
// it in the temporary directory by its settings and the text's digest (--fresh: again); LoRA
// then adapts that f32 base and QLoRA its 4-bit quantisation, and a second LoRA run with
// another batch order gives the run-to-run spread the val-loss ratio is to be read against.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  /** Full-parameter steps of the base's pretraining (default PRETRAIN.steps). */
  readonly pretrainSteps?: number;
  /** Pretrain the base again instead of using the cached one. */
  readonly fresh?: boolean;
  /** Where pretrained bases are cached (default <tmpdir>/troupe-bench-qlora). */
  readonly cacheDir?: string;
  readonly onProgress?: (line: string) => void;
}

/** The quality part's base pretraining: every parameter, AdamW, batches of the training split. */
export const PRETRAIN = { steps: 200, batch: 4, seq: 64, lr: 1.5e-3, seed: 2, valBatches: 32 } as const;

export interface PretrainedBase {
  readonly file: string;
  /** Whether it came from the cache (this run did not train it). */
  readonly cached: boolean;
  readonly steps: number;
  /** Its validation loss after pretraining and the seconds it took (those of the run that trained it). */
  readonly val_loss: number;
  readonly seconds: number;
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
    /** The pretrained base's validation loss before adaptation: f32, and quantised. */
    base_val_loss: number; qbase_val_loss: number;
    /** LoRA on the f32 base again with another batch order (seed): the run-to-run spread. */
    lora_reseeded_val_loss: number; noise_ratio: number;
    /** The held-out bytes under the training bytes' frequencies (what a unigram model reaches). */
    unigram_val_loss: number;
    base: { cached: boolean; file: string; pretrain_steps: number; pretrain_batch: number; pretrain_seq: number; pretrain_lr: number; pretrain_s: number };
  };
}

function side(o: SideOptions): SideResult {
  const r = spawnSync(process.execPath, [sideScript, JSON.stringify(o)], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench qlora: the ${o.side} side failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as SideResult;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The quality part's pretrained f32 base: from the cache when one was trained with the same
 * config, settings and text (by its sha256), else trained now in its own process and cached.
 */
export function pretrainedBase(o: { data: string; config: LlamaConfig; steps?: number; fresh?: boolean; cacheDir?: string; say?: (line: string) => void }): PretrainedBase {
  const p = { ...PRETRAIN, steps: o.steps ?? PRETRAIN.steps };
  const say = o.say ?? (() => {});
  const text = createHash("sha256").update(readFileSync(o.data)).digest("hex");
  const digest = createHash("sha256").update(JSON.stringify({ config: o.config, ...p, text, v: 1 })).digest("hex").slice(0, 16);
  const dir = o.cacheDir ?? join(tmpdir(), "troupe-bench-qlora");
  const file = join(dir, `base-${digest}.safetensors`);
  const meta = `${file}.json`;
  if (!o.fresh && existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, "utf8")) as { val_loss: number; seconds: number };
    say(`[bench] qlora: the pretrained base from the cache ${file} (val ${round(m.val_loss, 4)})`);
    return { file, cached: true, steps: p.steps, val_loss: m.val_loss, seconds: m.seconds };
  }
  say(`[bench] qlora: pretraining the base (every parameter, ${p.steps} steps of ${p.batch} × ${p.seq} bytes, lr ${p.lr}) ...`);
  mkdirSync(dir, { recursive: true });
  const r = side({ side: "pretrain", bits: 4, config: o.config, rank: 0, steps: p.steps, batch: p.batch, seq: p.seq, lr: p.lr, data: o.data, valBatches: p.valBatches, seed: p.seed, out: file });
  writeFileSync(meta, JSON.stringify({ val_loss: r.val_loss, seconds: r.seconds }));
  say(`[bench] qlora: pretrained in ${r.seconds} s: val ${round(r.val_loss!, 4)}`);
  return { file, cached: false, steps: p.steps, val_loss: r.val_loss!, seconds: r.seconds };
}

/** Cross-entropy (nats) of the held-out tenth under the training nine tenths' byte frequencies (add-one). */
export function unigramValLoss(data: string): number {
  const bytes = new Uint8Array(readFileSync(data));
  const split = Math.floor(bytes.length * 0.9);
  const counts = new Float64Array(256).fill(1);
  for (let i = 0; i < split; i++) counts[bytes[i]!]!++;
  const total = split + 256;
  let sum = 0;
  for (let i = split; i < bytes.length; i++) sum -= Math.log(counts[bytes[i]!]! / total);
  return sum / (bytes.length - split);
}

export function runQloraBench(o: QloraBenchOptions): QloraBenchReport {
  const bits = o.bits ?? 4;
  const say = o.onProgress ?? (() => {});
  const mem = { bits, config: o.memoryConfig ?? QLORA_MEMORY_CONFIG, rank: 16, steps: o.memorySteps ?? 3, batch: 1, seq: 64, lr: 1e-3, data: null, valBatches: 0, seed: 1 } as const;
  say(`[bench] qlora memory: ${mem.steps} steps of each side in its own process ...`);
  const ml = side({ ...mem, side: "lora" });
  say(`[bench] lora: ${ml.params} params, peak RSS ${ml.peak_rss_mb} MB`);
  const mq = side({ ...mem, side: "qlora" });
  say(`[bench] qlora: peak RSS ${mq.peak_rss_mb} MB`);
  const qConfig = o.qualityConfig ?? QLORA_QUALITY_CONFIG;
  const base = pretrainedBase({ data: o.data, config: qConfig, ...(o.pretrainSteps ? { steps: o.pretrainSteps } : {}), ...(o.fresh ? { fresh: true } : {}), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), say });
  const q = { bits, config: qConfig, rank: 16, steps: o.qualitySteps ?? 300, batch: 2, seq: 64, lr: 5e-4, data: o.data, valBatches: 32, seed: 2, base: base.file } as const;
  say(`[bench] qlora quality: ${q.steps} steps of each side on the pretrained base ...`);
  const ql = side({ ...q, side: "lora" });
  say(`[bench] lora: base val ${round(ql.base_val_loss!, 4)} -> ${round(ql.val_loss!, 4)}, ${ql.tokens_per_s} tok/s`);
  const qq = side({ ...q, side: "qlora" });
  say(`[bench] qlora: 4-bit base val ${round(qq.base_val_loss!, 4)} -> ${round(qq.val_loss!, 4)}, ${qq.tokens_per_s} tok/s`);
  const qr = side({ ...q, side: "lora", dataSeed: q.seed + 100 });
  say(`[bench] lora, another batch order: val ${round(qr.val_loss!, 4)}`);
  return {
    memory: { params: ml.params, lora_peak_rss_mb: ml.peak_rss_mb, qlora_peak_rss_mb: mq.peak_rss_mb, rss_ratio: round(mq.peak_rss_mb / ml.peak_rss_mb), steps: mem.steps, bits, lora_rss_mb: ml.rss, qlora_rss_mb: mq.rss },
    quality: {
      params: ql.params, lora_val_loss: round(ql.val_loss!, 4), qlora_val_loss: round(qq.val_loss!, 4), val_loss_ratio: round(qq.val_loss! / ql.val_loss!, 4),
      speed_ratio: round(qq.tokens_per_s / ql.tokens_per_s), lora_tokens_per_s: ql.tokens_per_s, qlora_tokens_per_s: qq.tokens_per_s, steps: q.steps, bits,
      base_val_loss: round(ql.base_val_loss!, 4), qbase_val_loss: round(qq.base_val_loss!, 4),
      lora_reseeded_val_loss: round(qr.val_loss!, 4), noise_ratio: round(qr.val_loss! / ql.val_loss!, 4),
      unigram_val_loss: round(unigramValLoss(o.data), 4),
      base: { cached: base.cached, file: base.file, pretrain_steps: base.steps, pretrain_batch: PRETRAIN.batch, pretrain_seq: PRETRAIN.seq, pretrain_lr: PRETRAIN.lr, pretrain_s: base.seconds },
    },
  };
}
