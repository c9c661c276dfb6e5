// Which waiting rows go out together next. Two policies, measured against each other by
// `troupe bench pool`:
//   bucketed: rows are grouped by the smallest compiled seq_len that holds them (and by what
//             they ask for); a group goes out when it fills the largest batch compiled for its
//             seq_len, or when its oldest row has waited max_wait_ms — then as many of its
//             oldest rows as the largest compiled batch it fills exactly (5 rows with batches
//             1, 4, 8: 4 now, the fifth next), or all of them when it fills none. Padding is
//             only what the bucket grid forces.
//   naive:    first fit in arrival order: the oldest row and the rows after it that ask for the
//             same outputs, up to the largest compiled batch, out at once, whatever their
//             lengths; the worker pads them all to the longest one's bucket.
import type { Bucket } from "../buckets.js";

export const PACKING_POLICIES = ["bucketed", "naive"] as const;
export type PackingPolicy = (typeof PACKING_POLICIES)[number];

/** What the packer needs to know about a waiting row. */
export interface Waiting {
  readonly length: number;
  /** Rows with different keys never share a request (different outputs or model). */
  readonly key: string;
  /** When it was queued (ms, any monotonic clock). */
  readonly queuedAt: number;
}

export interface Pick {
  /** Indexes into the waiting list, in queue order. */
  readonly rows: number[];
  /** The seq_len bucket the rows were grouped by (bucketed), or the longest row (naive). */
  readonly seqLen: number;
}

/** The smallest compiled seq_len holding `length`, or 0 when none does. */
export function seqBucketOf(buckets: readonly Bucket[], length: number): number {
  let best = 0;
  for (const b of buckets) if (b.seqLen >= length && (best === 0 || b.seqLen < best)) best = b.seqLen;
  return best;
}

/** The largest batch compiled at exactly this seq_len. */
function fullBatchAt(buckets: readonly Bucket[], seqLen: number): number {
  return buckets.reduce((m, b) => (b.seqLen === seqLen ? Math.max(m, b.batch) : m), 0);
}

const largestBatch = (buckets: readonly Bucket[]): number => buckets.reduce((m, b) => Math.max(m, b.batch), 0);

/**
 * The next rows to send, or null when the bucketed policy prefers to wait (then `wakeAt` says
 * when the oldest group's wait ends). Rows longer than every bucket are never picked (the
 * caller refuses them on arrival).
 */
export function pickRows(policy: PackingPolicy, waiting: readonly Waiting[], buckets: readonly Bucket[], now: number, maxWaitMs: number): { pick: Pick | null; wakeAt: number | null } {
  if (waiting.length === 0) return { pick: null, wakeAt: null };
  if (policy === "naive") {
    const key = waiting[0]!.key;
    const n = largestBatch(buckets);
    const rows: number[] = [];
    for (let i = 0; i < waiting.length && rows.length < n; i++) if (waiting[i]!.key === key) rows.push(i);
    return { pick: { rows, seqLen: rows.reduce((m, i) => Math.max(m, waiting[i]!.length), 0) }, wakeAt: null };
  }
  interface Group {
    readonly seqLen: number;
    readonly full: number;
    readonly rows: number[];
    readonly oldest: number;
  }
  const groups = new Map<string, Group>();
  waiting.forEach((w, i) => {
    const seqLen = seqBucketOf(buckets, w.length);
    const id = `${w.key}|${seqLen}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { seqLen, full: fullBatchAt(buckets, seqLen), rows: [], oldest: w.queuedAt }));
    g.rows.push(i);
  });
  let best: Group | null = null;
  let wakeAt: number | null = null;
  for (const g of groups.values()) {
    const full = g.rows.length >= g.full;
    const due = now - g.oldest >= maxWaitMs;
    if (full || due) {
      // a full group first, then the one that has waited longest
      const bestFull = best !== null && best.rows.length >= best.full;
      if (!best || (full && !bestFull) || (full === bestFull && g.oldest < best.oldest)) best = g;
    } else {
      const at = g.oldest + maxWaitMs;
      wakeAt = wakeAt === null ? at : Math.min(wakeAt, at);
    }
  }
  if (!best) return { pick: null, wakeAt };
  let n = best.full;
  if (best.rows.length < best.full) {
    // due but not full: the largest compiled batch the group fills exactly, else all of it
    const exact = buckets.reduce((m, b) => (b.seqLen === best!.seqLen && b.batch <= best!.rows.length ? Math.max(m, b.batch) : m), 0);
    n = exact > 0 ? exact : best.rows.length;
  }
  return { pick: { rows: best.rows.slice(0, n), seqLen: best.seqLen }, wakeAt };
}
