// The checks `troupe train` makes of its flags and data before it allocates a model, each a
// UsageError in the flags' own words: the shape (--heads divides --embd), the built-in pack's
// domains, a corpus long enough for --block, and a model/adapter file where one is expected.
import { UsageCode, UsageError } from "../errors.js";

interface ShapeFlags {
  readonly embd?: number | undefined;
  readonly heads?: number | undefined;
}

/** --heads must divide --embd (the defaults are 128 channels and 4 heads). */
export function checkShape(flags: ShapeFlags, defaults: { nEmbd: number; nHead: number }): void {
  const embd = flags.embd ?? defaults.nEmbd;
  const heads = flags.heads ?? defaults.nHead;
  if (embd % heads !== 0) {
    const divisors = Array.from({ length: Math.min(embd, 128) }, (_, i) => i + 1).filter((h) => embd % h === 0).slice(-6);
    const said = `${flags.embd !== undefined ? `--embd ${embd}` : `the default --embd ${embd}`} is not a multiple of ${flags.heads !== undefined ? `--heads ${heads}` : `the default --heads ${heads}`}`;
    throw new UsageError(`${said}; each head gets embd/heads channels: pick --heads from ${divisors.join(", ")} or change --embd`, { code: UsageCode.badValue });
  }
}

/**
 * Runs `load` (which reads --data), turning the data layer's complaint about the pack's options
 * (an unknown domain) into a usage error that names --data as typed.
 */
export async function withDataFlag<T>(data: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as { code?: unknown; key?: unknown; message: string };
    if (e && e.code === "DATA_CONFIG") {
      const detail = typeof e.key === "string" && e.message.startsWith(`${e.key}: `) ? e.message.slice(e.key.length + 2) : e.message;
      throw new UsageError(`--data ${data}: ${detail}`, { cause: err, code: UsageCode.badValue });
    }
    throw err;
  }
}

/** A text corpus must hold block + 1 tokens in each of its splits (train and validation). */
export function checkCorpusFits(data: string, corpus: { train: ArrayLike<number>; val: ArrayLike<number> }, block: number, blockGiven: boolean): void {
  const shortest = Math.min(corpus.train.length, corpus.val.length);
  if (shortest >= block + 1) return;
  const flag = blockGiven ? `--block ${block}` : `the default --block ${block}`;
  const fix = shortest >= 3 ? `lower --block to at most ${shortest - 1}` : "give a longer text";
  throw new UsageError(
    `--data ${data}: too short for ${flag}: its splits hold ${corpus.train.length} (train) and ${corpus.val.length} (validation) tokens, ` +
      `each needs block + 1 = ${block + 1}; ${fix}`,
    { code: UsageCode.badValue },
  );
}
