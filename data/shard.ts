// One rank's share of every global batch, for data-parallel training. Every rank runs the same
// sampler (same seed, same global batch of G rows) and keeps rows [⌊rG/W⌋, ⌊(r+1)G/W⌋), cut
// into micro-batches of at most `microRows` rows. So W ranks together see exactly the batches
// one host would see with batch G, and the sampler's state at a step boundary does not depend
// on W: a checkpoint written by 2 ranks resumes on 1 (which then takes all G rows, in more
// micro-batches) and vice versa.
// Legend: G global batch rows, W world size, r rank, T time.
import type { ResumableBatcher, TokenBatch } from "./batch.js";
import { DataConfigError, DataStateError } from "./errors.js";
import { expectInt } from "./validate.js";
import { IGNORE_INDEX } from "../kernels/constants.js";

export interface ShardOptions {
  readonly rank: number;
  readonly world: number;
  /** rows per micro-batch (default: the rank's whole share in one) */
  readonly microRows?: number;
}

export interface ShardState<S> {
  readonly kind: "shard";
  readonly version: 1;
  /** the global sampler's state before the global batch in progress */
  readonly inner: S;
  /** micro-batches of that global batch already handed out (0 at a step boundary) */
  readonly at: number;
}

export interface ShardedBatcher<S> extends ResumableBatcher<ShardState<S>> {
  /** micro-batches this rank takes from each global batch of `rows` rows */
  microBatchesOf(rows: number): number;
}

/** Rows [start, end) of this rank's share of a global batch of G rows. */
export function shareOf(G: number, rank: number, world: number): [number, number] {
  return [Math.floor((rank * G) / world), Math.floor(((rank + 1) * G) / world)];
}

function slice(b: TokenBatch, from: number, to: number): TokenBatch {
  const T = b.T;
  const targets = b.targets.subarray(from * T, to * T);
  let tokens = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) tokens++;
  return { idx: b.idx.subarray(from * T, to * T), targets, B: to - from, T, tokens };
}

class Sharded<S> implements ShardedBatcher<S> {
  private current: TokenBatch[] = [];
  private at = 0;
  private before: S | null = null;

  constructor(
    private readonly inner: ResumableBatcher<S>,
    private readonly rank: number,
    private readonly world: number,
    private readonly microRows: number | undefined,
  ) {}

  microBatchesOf(rows: number): number {
    const [a, b] = shareOf(rows, this.rank, this.world);
    return Math.max(1, Math.ceil((b - a) / (this.microRows ?? Math.max(1, b - a))));
  }

  private draw(): void {
    this.before = this.inner.state();
    const g = this.inner.next();
    const [a, b] = shareOf(g.B, this.rank, this.world);
    if (b === a) {
      // more ranks than rows: this rank contributes an empty micro-batch (no tokens)
      this.current = [{ idx: new Int32Array(0), targets: new Int32Array(0), B: 0, T: g.T, tokens: 0 }];
    } else {
      const m = this.microRows ?? b - a;
      this.current = [];
      for (let r = a; r < b; r += m) this.current.push(slice(g, r, Math.min(b, r + m)));
    }
    this.at = 0;
  }

  next(): TokenBatch {
    if (this.at >= this.current.length) this.draw();
    return this.current[this.at++]!;
  }

  state(): ShardState<S> {
    const done = this.at >= this.current.length;
    return { kind: "shard", version: 1, inner: done || this.before === null ? this.inner.state() : this.before, at: done ? 0 : this.at };
  }

  restore(s: ShardState<S>): void {
    if (s?.kind !== "shard" || s.version !== 1 || !Number.isInteger(s.at) || s.at < 0) {
      throw new DataStateError(`Expected a shard state (version 1), got ${JSON.stringify(s)?.slice(0, 80)}`);
    }
    this.inner.restore(s.inner);
    this.current = [];
    this.at = 0;
    this.before = null;
    if (s.at > 0) {
      this.draw();
      if (s.at > this.current.length) throw new DataStateError(`shard state is at micro-batch ${s.at} of a global batch this rank cuts into ${this.current.length}`);
      this.at = s.at;
    }
  }
}

/** This rank's micro-batches of `inner`'s global batches. */
export function shardBatches<S>(inner: ResumableBatcher<S>, o: ShardOptions): ShardedBatcher<S> {
  const world = expectInt("world", o.world, 1);
  const rank = expectInt("rank", o.rank, 0);
  if (rank >= world) throw new DataConfigError("rank", `must be below world ${world}, got ${rank}`);
  if (o.microRows !== undefined) expectInt("microRows", o.microRows, 1);
  return new Sharded(inner, rank, world, o.microRows);
}
