// Static-shape buckets (batch, seq_len): parsing them, and the rule every worker applies — a
// set of rows runs in the smallest compiled bucket that holds it (fewest batch × seq_len slots,
// then the shorter seq_len, then the smaller batch); rows beyond the largest batch run as
// several executions, in order.
import { PoolConfigError } from "../errors.js";
import type { Bucket } from "./proto.js";

export type { Bucket } from "./proto.js";

export const bucketName = (b: Bucket): string => `${b.batch}x${b.seqLen}`;

/** Sorted by slots, then seq_len: the order "smallest that fits" searches in. */
export function sortBuckets(buckets: readonly Bucket[]): Bucket[] {
  return [...buckets].sort((a, b) => a.batch * a.seqLen - b.batch * b.seqLen || a.seqLen - b.seqLen || a.batch - b.batch);
}

/** Checks a bucket list: positive integers, no duplicates, seq_len within the model's context. */
export function checkBuckets(buckets: readonly Bucket[], maxSeqLen?: number): Bucket[] {
  if (buckets.length === 0) throw new PoolConfigError("no buckets: give at least one (batch, seq_len), e.g. 1x16,4x64");
  const seen = new Set<string>();
  for (const b of buckets) {
    if (!Number.isInteger(b.batch) || b.batch < 1 || !Number.isInteger(b.seqLen) || b.seqLen < 1) {
      throw new PoolConfigError(`bucket ${JSON.stringify(b)}: batch and seq_len must be positive integers`);
    }
    if (maxSeqLen !== undefined && b.seqLen > maxSeqLen) {
      throw new PoolConfigError(`bucket ${bucketName(b)}: seq_len ${b.seqLen} is longer than the model's context of ${maxSeqLen}`);
    }
    if (seen.has(bucketName(b))) throw new PoolConfigError(`bucket ${bucketName(b)} is listed twice`);
    seen.add(bucketName(b));
  }
  return sortBuckets(buckets);
}

/** "1x16,4x16,8x64" → buckets (also accepts "1x16 4x16"). */
export function parseBuckets(text: string): Bucket[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const out = parts.map((p) => {
    const m = /^(\d+)x(\d+)$/.exec(p);
    if (!m) throw new PoolConfigError(`bucket ${JSON.stringify(p)} is not BATCHxSEQ_LEN (e.g. 4x64)`);
    return { batch: Number(m[1]), seqLen: Number(m[2]) };
  });
  return checkBuckets(out);
}

/** The smallest bucket holding `rows` rows of at most `length` tokens, or null. */
export function smallestFitting(buckets: readonly Bucket[], rows: number, length: number): Bucket | null {
  let best: Bucket | null = null;
  for (const b of buckets) {
    if (b.batch < rows || b.seqLen < length) continue;
    if (!best || b.batch * b.seqLen < best.batch * best.seqLen || (b.batch * b.seqLen === best.batch * best.seqLen && (b.seqLen < best.seqLen || (b.seqLen === best.seqLen && b.batch < best.batch)))) best = b;
  }
  return best;
}

export const maxSeqLenOf = (buckets: readonly Bucket[]): number => buckets.reduce((m, b) => Math.max(m, b.seqLen), 0);

/** Largest batch among buckets whose seq_len is at least `length` (0 when none is). */
export function maxBatchFor(buckets: readonly Bucket[], length: number): number {
  return buckets.reduce((m, b) => (b.seqLen >= length ? Math.max(m, b.batch) : m), 0);
}

/** One execution of a request: rows [start, start + rows) in `bucket`. */
export interface ExecutionPlan {
  readonly start: number;
  readonly rows: number;
  readonly bucket: Bucket;
  readonly realTokens: number;
}

/**
 * How a worker runs a request of rows with these lengths: consecutive groups of at most the
 * largest batch that holds the longest row, each in its own smallest fitting bucket. Null when
 * a row is longer than every bucket.
 */
export function planExecutions(buckets: readonly Bucket[], lengths: readonly number[]): ExecutionPlan[] | null {
  const longest = lengths.reduce((m, l) => Math.max(m, l), 0);
  const step = maxBatchFor(buckets, longest);
  if (step === 0) return null;
  const plans: ExecutionPlan[] = [];
  for (let start = 0; start < lengths.length; start += step) {
    const mine = lengths.slice(start, start + step);
    const bucket = smallestFitting(buckets, mine.length, mine.reduce((m, l) => Math.max(m, l), 0));
    if (!bucket) return null;
    plans.push({ start, rows: mine.length, bucket, realTokens: mine.reduce((s, l) => s + l, 0) });
  }
  return plans;
}
