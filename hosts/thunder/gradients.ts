// The gradient sync the trainer loop uses (models/training/sync.ts), on any collective that
// sums a Float32Array across the group (a Ring in this thread, or a ThunderGroup's worker).
//
// attach() gives every trainable parameter a gradient that is a view of one flat buffer, laid
// out in reverse parameter order (roughly the order backward finishes them) and cut into
// buckets of ~bucketBytes. With overlap, a bucket is handed to the collective as soon as the
// backward hook has reported all its parameters, while backward goes on; buckets are always
// reduced in index order, so every rank issues the same collectives in the same order even
// when one of them had no tokens and ran no backward at all. reduce() hands over what is left
// with the step's totals (token count and loss sum, always f32) and divides the gradients by the
// group's token count. Uncompressed, the totals ride at the end of the last bucket (the flat
// buffer has two extra elements there), which reduce() always submits itself: one collective
// per step fewer, a round trip the step would otherwise wait for. Compressed, they go alone, so
// they stay exact.
import { type Tensor, fromArray, scaleInPlace } from "../../kernels/mod.js";
import type { GradientSync, StepTotals } from "../../models/mod.js";
import { GroupError } from "../errors.js";
import type { Compression } from "./ring.js";

export interface Collective {
  readonly rank: number;
  readonly world: number;
  /** sums `buf` across the group, in place (one collective at a time, in call order) */
  allReduce(buf: Float32Array, compression?: Compression): Promise<void>;
  /** a buffer this collective can work on (a SharedArrayBuffer view for a worker) */
  alloc(n: number): Float32Array;
}

export interface GradientSyncOptions {
  /** gradients on the wire as f32 (default) or rounded to f16/bf16 */
  readonly compression?: Compression;
  /** target bucket size in f32 bytes (default 4 MiB) */
  readonly bucketBytes?: number;
  /** start reducing buckets during backward (default true) */
  readonly overlap?: boolean;
}

export interface SyncStats {
  steps: number;
  buckets: number;
  /** buckets handed over while backward was still running */
  overlapped: number;
  elements: number;
  /** time spent waiting in reduce() after backward, ms */
  waitMs: number;
}

interface Bucket {
  readonly start: number;
  readonly end: number;
  readonly params: number;
  left: number;
}

class FlatSync implements GradientSync {
  readonly stats: SyncStats = { steps: 0, buckets: 0, overlapped: 0, elements: 0, waitMs: 0 };
  private flat: Float32Array = new Float32Array(0);
  private buckets: Bucket[] = [];
  private bucketOf = new Map<Tensor, number>();
  private submitted = 0;
  private chain: Promise<void> = Promise.resolve();
  private totals: Float32Array;
  /** the totals are the last two elements of the flat buffer (uncompressed) */
  private readonly piggyback: boolean;
  readonly onGradReady: ((p: Tensor) => void) | undefined;

  constructor(
    private readonly c: Collective,
    private readonly o: Required<GradientSyncOptions>,
  ) {
    this.piggyback = o.compression === "none";
    this.totals = c.alloc(2);
    this.onGradReady = o.overlap && c.world > 1 ? (p) => this.ready(p) : undefined;
  }

  get rank(): number {
    return this.c.rank;
  }
  get world(): number {
    return this.c.world;
  }

  attach(params: readonly (readonly [string, Tensor])[]): void {
    const order = [...params].reverse();
    const total = order.reduce((a, [, t]) => a + t.size, 0);
    this.flat = this.c.alloc(total + (this.piggyback ? 2 : 0));
    const target = Math.max(1024, Math.floor(this.o.bucketBytes / 4));
    let at = 0;
    let open: { start: number; params: number } = { start: 0, params: 0 };
    for (const [, t] of order) {
      const view = this.flat.subarray(at, at + t.size);
      if (t.grad) view.set(t.grad.f32());
      (t as { grad: Tensor | null }).grad = fromArray(view, t.shape);
      this.bucketOf.set(t, this.buckets.length);
      at += t.size;
      open.params++;
      if (at - open.start >= target) {
        this.buckets.push({ start: open.start, end: at, params: open.params, left: open.params });
        open = { start: at, params: 0 };
      }
    }
    if (open.params > 0) this.buckets.push({ start: open.start, end: at, params: open.params, left: open.params });
    if (this.piggyback) {
      const last = this.buckets[this.buckets.length - 1];
      if (last) this.buckets[this.buckets.length - 1] = { ...last, end: at + 2 };
      else this.buckets.push({ start: 0, end: 2, params: 0, left: 0 });
      this.totals = this.flat.subarray(at, at + 2);
    }
  }

  beginBackward(): void {
    for (const b of this.buckets) b.left = b.params;
    this.submitted = 0;
  }

  private ready(p: Tensor): void {
    const k = this.bucketOf.get(p);
    if (k === undefined) return;
    this.buckets[k]!.left--;
    // hand over every leading bucket that is complete: index order, the same on every rank (the
    // last one waits for reduce() when it carries the totals)
    const open = this.piggyback ? this.buckets.length - 1 : this.buckets.length;
    while (this.submitted < open && this.buckets[this.submitted]!.left === 0) {
      this.stats.overlapped++;
      this.submit(this.submitted++);
    }
  }

  private submit(k: number): void {
    const b = this.buckets[k]!;
    const view = this.flat.subarray(b.start, b.end);
    this.stats.buckets++;
    this.stats.elements += view.length;
    const run = this.chain.then(() => this.c.allReduce(view, this.o.compression));
    this.chain = run;
  }

  async reduce(local: StepTotals): Promise<StepTotals> {
    if (this.buckets.length === 0 && this.flat.length === 0) throw new GroupError("reduce() before attach(): the gradient sync has no parameters");
    this.stats.steps++;
    const t0 = performance.now();
    this.totals[0] = local.tokens;
    this.totals[1] = local.lossSum;
    const totals = this.totals;
    while (this.submitted < this.buckets.length) this.submit(this.submitted++);
    if (!this.piggyback) this.chain = this.chain.then(() => this.c.allReduce(totals, "none"));
    const done = this.chain;
    this.chain = Promise.resolve();
    this.submitted = 0;
    for (const b of this.buckets) b.left = b.params;
    await done;
    this.stats.waitMs += performance.now() - t0;
    const tokens = totals[0]!;
    const lossSum = totals[1]!;
    if (tokens > 0) scaleInPlace(this.flat, 1 / tokens);
    return { tokens, lossSum };
  }
}

/** A gradient sync over `collective`. */
export function createGradientSync(collective: Collective, o: GradientSyncOptions = {}): GradientSync & { readonly stats: SyncStats } {
  return new FlatSync(collective, { compression: o.compression ?? "none", bucketBytes: o.bucketBytes ?? 4 << 20, overlap: o.overlap ?? true });
}
