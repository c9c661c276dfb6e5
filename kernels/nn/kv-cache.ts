// The key/value cache of incremental decoding: per layer, the keys and values of every position
// seen so far, so each new token costs one row of attention instead of a re-run of the whole
// context. Each layer keeps its own length, so one cache can serve a forward pass split across
// two calls (layers 0..l-1 on one side, l..L-1 on the other: resumed continuation). Rows of a
// batch may start at different offsets (left padding): row b's tokens sit at cache indices
// [start[b], length) and have positions index − start[b].
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
  /** Filled positions per layer. */
  readonly lengths: Int32Array;
  /** Positions embedded so far (learned position embeddings read it; layers have their own lengths). */
  embedded = 0;
  /** Per row, the first real (not padding) index; all zeros without padding. */
  readonly start: Int32Array;

  constructor(readonly batch: number, readonly capacity: number, layers: number, readonly width: number) {
    for (const [name, v] of [["batch", batch], ["capacity", capacity], ["layers", layers], ["width", width]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError({ op: "KvCache", arg: name }, `Expected "${name}" to be a positive integer, got ${v}`);
    }
    this.layers = outsideWorkspace(() => Array.from({ length: layers }, () => ({ k: zeros([batch, capacity, width]), v: zeros([batch, capacity, width]) })));
    this.lengths = new Int32Array(layers);
    this.start = new Int32Array(batch);
  }

  /** The longest filled length over the layers (all equal after whole forward passes). */
  get length(): number {
    let m = this.embedded;
    for (const l of this.lengths) m = Math.max(m, l);
    return m;
  }

  /** Room left for new positions. */
  get free(): number {
    return this.capacity - this.length;
  }

  /** True when some row starts after index 0 (the attention then needs the starts). */
  get padded(): boolean {
    return this.start.some((s) => s > 0);
  }

  private layer(i: number): LayerCache {
    const L = this.layers[i];
    if (!L) throw new ArgumentError({ op: "KvCache", arg: "layer" }, `no layer ${i} (the cache has ${this.layers.length})`);
    return L;
  }

  /** Checks that Tn new rows fit layer `layer` (before any work on them). */
  reserve(Tn: number, layer = 0): void {
    this.layer(layer);
    if (this.lengths[layer]! + Tn > this.capacity) {
      throw new ArgumentError({ op: "KvCache", arg: "tokens" }, `${Tn} new positions do not fit: layer ${layer} of the cache holds ${this.lengths[layer]} of ${this.capacity}`);
    }
  }

  /** Counts Tn new tokens as embedded (before their layers run); refuses more than the capacity. */
  embed(Tn: number): void {
    if (this.embedded + Tn > this.capacity) {
      throw new ArgumentError({ op: "KvCache", arg: "tokens" }, `${Tn} new positions do not fit: the cache holds ${this.embedded} of ${this.capacity}`);
    }
    this.embedded += Tn;
  }

  /** Appends k, v [B, Tn, KVd] to `layer`; returns the layer's new length. */
  write(layer: number, k: Tensor, v: Tensor): number {
    const L = this.layer(layer);
    const Tn = k.shape[1]!;
    this.reserve(Tn, layer);
    const rowN = Tn * this.width;
    const kd = k.f32(), vd = v.f32(), ck = L.k.f32(), cv = L.v.f32();
    const at0 = this.lengths[layer]!;
    for (let b = 0; b < this.batch; b++) {
      const at = (b * this.capacity + at0) * this.width;
      ck.set(kd.subarray(b * rowN, (b + 1) * rowN), at);
      cv.set(vd.subarray(b * rowN, (b + 1) * rowN), at);
    }
    this.lengths[layer] = at0 + Tn;
    return at0 + Tn;
  }

  /** Positions [B, Tn] (i32) of the next Tn rows of `layer` (default: of the embeddings): index − start[b]. */
  positions(Tn: number, layer?: number): Tensor {
    const at = layer === undefined ? this.embedded : this.lengths[layer]!;
    const p = new Int32Array(this.batch * Tn);
    for (let b = 0; b < this.batch; b++) for (let t = 0; t < Tn; t++) p[b * Tn + t] = Math.max(0, at + t - this.start[b]!);
    return fromArray(p, [this.batch, Tn]);
  }

  /** A new cache holding only `rows` of this one (in that order), with their lengths and starts. */
  select(rows: readonly number[]): KvCache {
    const out = new KvCache(rows.length, this.capacity, this.layers.length, this.width);
    out.lengths.set(this.lengths);
    out.embedded = this.embedded;
    const n = this.capacity * this.width;
    rows.forEach((r, i) => {
      if (!Number.isInteger(r) || r < 0 || r >= this.batch) throw new ArgumentError({ op: "KvCache.select", arg: "rows" }, `no row ${r} (the cache has ${this.batch})`);
      out.start[i] = this.start[r]!;
      this.layers.forEach((L, l) => {
        out.layers[l]!.k.f32().set(L.k.f32().subarray(r * n, (r + 1) * n), i * n);
        out.layers[l]!.v.f32().set(L.v.f32().subarray(r * n, (r + 1) * n), i * n);
      });
    });
    return out;
  }

  /** Empties the cache (the buffers are kept); `start` gives the rows' new left padding. */
  reset(start?: ArrayLike<number>): void {
    this.lengths.fill(0);
    this.embedded = 0;
    this.start.fill(0);
    if (start) this.start.set(start);
  }
}
