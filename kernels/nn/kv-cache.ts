// The key/value cache of incremental decoding: per layer, the keys and values of every position
// seen so far, so each new token costs one row of attention instead of a re-run of the whole
// context. Rows of a batch may start at different offsets (left padding): row b's tokens sit
// at cache indices [start[b], length) and have positions index − start[b].
// Legend: B batch, S capacity (positions), KVd key/value width (kv heads × head size), Tn new rows.
import { ArgumentError } from "../errors.js";
import { outsideWorkspace } from "../tensor/arena.js";
import { fromArray, zeros } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";

export interface LayerCache {
  /** [B, S, KVd] */
  readonly k: Tensor;
  /** [B, S, KVd] */
  readonly v: Tensor;
}

export class KvCache {
  readonly layers: LayerCache[];
  /** Filled positions (the same for every row; rows shorter than others are left-padded). */
  length = 0;
  /** Per row, the first real (not padding) index; all zeros without padding. */
  readonly start: Int32Array;

  constructor(readonly batch: number, readonly capacity: number, layers: number, readonly width: number) {
    for (const [name, v] of [["batch", batch], ["capacity", capacity], ["layers", layers], ["width", width]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError({ op: "KvCache", arg: name }, `Expected "${name}" to be a positive integer, got ${v}`);
    }
    this.layers = outsideWorkspace(() => Array.from({ length: layers }, () => ({ k: zeros([batch, capacity, width]), v: zeros([batch, capacity, width]) })));
    this.start = new Int32Array(batch);
  }

  /** Room left for new positions. */
  get free(): number {
    return this.capacity - this.length;
  }

  /** True when some row starts after index 0 (the attention then needs the starts). */
  get padded(): boolean {
    return this.start.some((s) => s > 0);
  }

  /** Checks that Tn new rows fit (before any layer writes them). */
  reserve(Tn: number): void {
    if (Tn > this.free) {
      throw new ArgumentError({ op: "KvCache", arg: "tokens" }, `${Tn} new positions do not fit: the cache holds ${this.length} of ${this.capacity}`);
    }
  }

  /** Writes k, v [B, Tn, KVd] of `layer` at indices [length, length + Tn) (length moves on in advance()). */
  write(layer: number, k: Tensor, v: Tensor): void {
    const L = this.layers[layer];
    if (!L) throw new ArgumentError({ op: "KvCache.write", arg: "layer" }, `no layer ${layer} (the cache has ${this.layers.length})`);
    const Tn = k.shape[1]!;
    const rowN = Tn * this.width;
    const kd = k.f32(), vd = v.f32(), ck = L.k.f32(), cv = L.v.f32();
    for (let b = 0; b < this.batch; b++) {
      const at = (b * this.capacity + this.length) * this.width;
      ck.set(kd.subarray(b * rowN, (b + 1) * rowN), at);
      cv.set(vd.subarray(b * rowN, (b + 1) * rowN), at);
    }
  }

  /** After every layer has written Tn rows. */
  advance(Tn: number): void {
    this.length += Tn;
  }

  /** Positions [B * Tn] (i32) of the next Tn rows: index − start[b]. */
  positions(Tn: number): Tensor {
    const p = new Int32Array(this.batch * Tn);
    for (let b = 0; b < this.batch; b++) for (let t = 0; t < Tn; t++) p[b * Tn + t] = Math.max(0, this.length + t - this.start[b]!);
    return fromArray(p, [this.batch, Tn]);
  }

  /** Empties the cache (the buffers are kept). */
  reset(): void {
    this.length = 0;
    this.start.fill(0);
  }
}
