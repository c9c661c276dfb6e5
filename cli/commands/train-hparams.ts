// The hyper-parameter flags of `troupe train` and what a resume does with them: every value is
// stored with each checkpoint (manifest config.hparams); --resume with a different value is
// refused, naming the flags and both values, unless --allow-change. Defaults are absolute with
// caps, not fractions of --steps alone: warm-up min(100, steps/10), evaluation every
// min(250, steps/10), a checkpoint every min(500, steps/10).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Hparams } from "../../models/mod.js";
import { UsageCode, UsageError } from "../errors.js";

export const DEFAULT_WARMUP_CAP = 100;
export const DEFAULT_EVAL_CAP = 250;
export const DEFAULT_CHECKPOINT_CAP = 500;

export function defaultWarmup(steps: number): number {
  return Math.min(DEFAULT_WARMUP_CAP, Math.floor(steps / 10));
}
export function defaultEvalEvery(steps: number): number {
  return Math.min(DEFAULT_EVAL_CAP, Math.max(1, Math.floor(steps / 10)));
}
export function defaultCheckpointEvery(steps: number): number {
  return Math.min(DEFAULT_CHECKPOINT_CAP, Math.max(1, Math.floor(steps / 10)));
}

/** "--betas 0.9,0.95" */
export function parseBetas(v: string | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((b) => !Number.isFinite(b) || b < 0 || b >= 1)) {
    throw new UsageError(`--betas must be two numbers in [0, 1) like 0.9,0.999, got ${JSON.stringify(v)}`, { code: UsageCode.badValue });
  }
  return [parts[0]!, parts[1]!];
}

const FLAG_OF: Record<string, string> = {
  lr: "--lr", min_lr: "--min-lr", warmup_steps: "--warmup", schedule: "--warmup/--min-lr", weight_decay: "--weight-decay",
  betas: "--betas", grad_clip: "--grad-clip", accumulate: "--accumulate", batch: "--batch",
};

export interface StoredHparams {
  readonly hparams: Hparams;
  readonly batch: number | null;
  /** the checkpoint they were read from */
  readonly at: string;
}

/** The hyper-parameters of the newest checkpoint in `stageDir` (null: none, or an older troupe's). */
export async function readStoredHparams(stageDir: string): Promise<StoredHparams | null> {
  const M = await import("../../models/mod.js");
  if (!existsSync(stageDir)) return null;
  const steps = readdirSync(stageDir).filter((n) => /^step-\d{8,}$/.test(n)).sort();
  const newest = steps[steps.length - 1];
  if (!newest) return null;
  let config: unknown;
  try {
    config = (JSON.parse(readFileSync(join(stageDir, newest, "manifest.json"), "utf8")) as { config?: unknown }).config;
  } catch {
    return null; // a bad checkpoint: the resume picks an older good one and says so
  }
  const hparams = M.storedHparams(config as never);
  if (!hparams) return null;
  return { hparams, batch: (config as { train?: { batch?: number } }).train?.batch ?? null, at: join(stageDir, newest) };
}

/**
 * A resume trains with the stored values of every flag not given; a flag given with another
 * value than the checkpoint's is refused unless allowed. Returns the changed keys.
 */
export async function checkResumeHparams(stored: StoredHparams, now: Hparams & { batch: number }, allowChange: boolean): Promise<string[]> {
  const M = await import("../../models/mod.js");
  const before = { ...stored.hparams, batch: stored.batch ?? now.batch };
  const changed: string[] = M.changedHparams(before as Hparams, now as Hparams);
  if (before.batch !== now.batch && !changed.includes("batch")) changed.push("batch");
  const shown = changed.filter((k) => k !== "schedule" || !(changed.includes("warmup_steps") || changed.includes("min_lr") || changed.includes("lr")));
  if (shown.length && !allowChange) {
    const said = shown.map((k) => `${FLAG_OF[k] ?? k} ${show(before[k as keyof typeof before])} → ${show(now[k as keyof typeof now])}`).join(", ");
    throw new UsageError(
      `--resume: this run was trained with other settings (${said}; ${stored.at}); give the same flags, or pass --allow-change to continue with the new values`,
      { code: UsageCode.badValue },
    );
  }
  return shown;
}

function show(v: unknown): string {
  return Array.isArray(v) ? v.join(",") : v === null || v === undefined ? "none" : String(v);
}
