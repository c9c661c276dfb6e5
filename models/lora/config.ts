// LoRA/DoRA settings and which Linear layers they wrap.
//
// A target pattern without "." or "*" names a layer by its last path segment: "qkv", "proj",
// "fc", "fc_proj" ("proj" does not match "fc_proj"). A pattern with "." or "*" is matched
// against the whole dotted path, "*" standing for one segment: "h.0.qkv", "h.*.fc".
import { ModelConfigError } from "../errors.js";

export interface LoraConfig {
  /** r: the rank of the update B·A. */
  readonly rank: number;
  /** The update is scaled by alpha / r (default: alpha = 2r, scale 2). */
  readonly alpha: number;
  /** Dropout on the adapter's input in training mode (default 0). */
  readonly dropout: number;
  /** Layer patterns (default ["qkv", "proj"]). */
  readonly targets: readonly string[];
  /** DoRA: a learned magnitude per output feature times the normalized adapted weight. */
  readonly dora: boolean;
}

export const DEFAULT_LORA_TARGETS: readonly string[] = ["qkv", "proj"];

export function resolveLoraConfig(raw: Partial<LoraConfig> & { rank: number }, key = "lora"): LoraConfig {
  const rank = raw.rank;
  if (!Number.isInteger(rank) || rank < 1) throw new ModelConfigError(`${key}.rank`, `Expected "rank" to be a positive integer, got ${rank}`);
  const alpha = raw.alpha ?? 2 * rank;
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw new ModelConfigError(`${key}.alpha`, `Expected "alpha" to be a positive number, got ${alpha}`);
  }
  const dropout = raw.dropout ?? 0;
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) {
    throw new ModelConfigError(`${key}.dropout`, `Expected "dropout" to be a number in [0, 1), got ${dropout}`);
  }
  const targets = [...(raw.targets ?? DEFAULT_LORA_TARGETS)];
  if (targets.length === 0 || !targets.every((t) => typeof t === "string" && /^[A-Za-z0-9_.*]+$/.test(t))) {
    throw new ModelConfigError(`${key}.targets`, `Expected layer name patterns such as qkv, proj, fc, fc_proj or h.*.qkv, got ${JSON.stringify(raw.targets)}`);
  }
  return { rank, alpha, dropout, targets, dora: raw.dora === true };
}

/** alpha / r */
export function loraScale(c: LoraConfig): number {
  return c.alpha / c.rank;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.split(".").map((seg) => seg.split("*").map((s) => s.replace(/[\\^$+?()[\]{}|]/g, "\\$&")).join("[^.]*")).join("\\.");
  return new RegExp(`^${body}$`);
}

/** Does a module path ("h.0.qkv") match a target pattern? */
export function matchesTarget(path: string, pattern: string): boolean {
  if (!pattern.includes(".") && !pattern.includes("*")) return path.split(".").pop() === pattern;
  return globToRegExp(pattern).test(path);
}

export function matchesAnyTarget(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesTarget(path, p));
}
