// The hyper-parameters that shape a training run, as stored with every checkpoint
// (manifest config.hparams) so that a resume can say when one of them changed. snake_case, as
// they appear in the manifest and in --json output.
import type { JsonValue } from "../checkpoint/mod.js";

export interface Hparams {
  readonly lr: number;
  readonly min_lr: number;
  readonly warmup_steps: number;
  /** "cosine" (warm-up then cosine to min_lr) or "constant" (no warm-up, min_lr = lr) */
  readonly schedule: "cosine" | "constant";
  readonly weight_decay: number;
  readonly betas: readonly [number, number];
  /** the gradient-norm clip; null: none */
  readonly grad_clip: number | null;
  readonly accumulate: number;
}

export const DEFAULT_BETAS: readonly [number, number] = [0.9, 0.999];

export function hparamsOf(r: { lr: number; minLr: number; warmupSteps: number; weightDecay: number; clipNorm: number | null; accumulate: number }, betas: readonly [number, number] = DEFAULT_BETAS): Hparams {
  return {
    lr: r.lr, min_lr: r.minLr, warmup_steps: r.warmupSteps,
    schedule: r.warmupSteps === 0 && r.minLr === r.lr ? "constant" : "cosine",
    weight_decay: r.weightDecay, betas: [betas[0], betas[1]], grad_clip: r.clipNorm, accumulate: r.accumulate,
  };
}

/** A checkpoint config with the hyper-parameters added (a non-object config is kept as it is). */
export function withHparams(config: JsonValue, h: Hparams): JsonValue {
  if (!config || typeof config !== "object" || Array.isArray(config)) return config;
  return { ...config, hparams: h as unknown as JsonValue };
}

/** The stored hyper-parameters of a checkpoint's config, or null when it has none (older checkpoints). */
export function storedHparams(config: JsonValue): Hparams | null {
  const h = config && typeof config === "object" && !Array.isArray(config) ? (config as Record<string, JsonValue>).hparams : null;
  return h && typeof h === "object" && !Array.isArray(h) ? (h as unknown as Hparams) : null;
}

/** The keys whose values differ between two sets (a key missing on one side counts). */
export function changedHparams(before: Hparams, now: Hparams): (keyof Hparams)[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]) as Set<keyof Hparams>;
  return [...keys].filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(now[k] ?? null));
}
