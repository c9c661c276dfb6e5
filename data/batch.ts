// The batch every sampler and batcher returns: B rows of T positions, row-major.
// Legend: B batch rows, T time (block size).

export interface TokenBatch {
  /** (B, T) input token ids, row-major. */
  readonly idx: Int32Array;
  /** (B, T) next-token targets; IGNORE_INDEX where the loss must skip. */
  readonly targets: Int32Array;
  readonly B: number;
  readonly T: number;
  /** Number of targets that are not IGNORE_INDEX (the denominator of the mean loss). */
  readonly tokens: number;
}

/** Something that yields batches and can save/restore its position exactly. */
export interface ResumableBatcher<S> {
  next(): TokenBatch;
  /** Plain JSON; `restore(state())` makes the following batches identical, bitwise. */
  state(): S;
  restore(state: S): void;
}

/** FNV-1a over int32 values: a cheap identity for a token stream, stored in sampler states. */
export function fingerprint(chunks: Iterable<ArrayLike<number>>): number {
  let h = 0x811c9dc5;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      h ^= chunk[i]! & 0xffff;
      h = Math.imul(h, 0x01000193);
      h ^= (chunk[i]! >>> 16) & 0xffff;
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff; // separates [1,2],[3] from [1],[2,3]
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
