// Supervised fine-tuning batches from rendered prompt/response examples.
// Legend: B batch rows, T time (block size), L example length in tokens.
//
// One example per row, left-aligned, padded with the eot token. For an example of L <= T+1
// tokens, position t (t < L-1) has input ids[t] and target ids[t+1] when t+1 >= promptLen
// (a response token or the end marker), else IGNORE_INDEX; padding positions have
// IGNORE_INDEX targets. So the mean cross-entropy over non-ignored targets is
// sum(masked CE) / number of response tokens (end marker included), and `batch.tokens` is
// that number.
import type { ResumableBatcher, TokenBatch } from "./batch.js";
import { fingerprint } from "./batch.js";
import { DataConfigError, DataStateError } from "./errors.js";
import { createRng, deriveSeed } from "./rng.js";
import type { EncodedExample } from "./template.js";
import { expectInt } from "./validate.js";
import { IGNORE_INDEX } from "../kernels/constants.js";

export type SftItem = EncodedExample;

/** What to do with an example longer than the lane's `maxTokens`. */
export const OVERFLOW_RULES = ["skip", "truncate"] as const;
export type OverflowRule = (typeof OVERFLOW_RULES)[number];

export type FitResult =
  | { readonly ok: true; readonly item: SftItem; readonly truncated: boolean }
  | { readonly ok: false; readonly reason: string; readonly detail: string };

/**
 * Makes an example fit `maxTokens`. "skip": longer examples are rejected. "truncate": prompt
 * tokens are dropped from the left so the whole response (and end marker) is kept; if the
 * response part alone does not fit with at least one prompt token before it, it is rejected.
 */
export function fitExample(ex: EncodedExample, maxTokens: number, rule: OverflowRule): FitResult {
  const L = ex.ids.length;
  if (L <= maxTokens) return { ok: true, item: ex, truncated: false };
  const detail = `${L} tokens > ${maxTokens}`;
  if (rule === "skip") return { ok: false, reason: "too long", detail };
  const drop = L - maxTokens;
  if (ex.promptLen - drop < 1) return { ok: false, reason: "response too long", detail };
  return { ok: true, item: { ids: ex.ids.subarray(drop), promptLen: ex.promptLen - drop }, truncated: true };
}

/** Writes one example into row b of (idx, targets); returns its non-ignored target count. */
function fillRow(idx: Int32Array, targets: Int32Array, b: number, T: number, item: SftItem, pad: number): number {
  const { ids, promptLen } = item;
  const n = ids.length - 1; // input positions used
  if (n > T) throw new DataConfigError("block", `an example of ${ids.length} tokens does not fit block ${T} (+1)`);
  const o = b * T;
  let tokens = 0;
  for (let t = 0; t < n; t++) {
    idx[o + t] = ids[t]!;
    if (t + 1 >= promptLen) {
      targets[o + t] = ids[t + 1]!;
      tokens++;
    } else targets[o + t] = IGNORE_INDEX;
  }
  idx.fill(pad, o + Math.max(n, 0), o + T);
  targets.fill(IGNORE_INDEX, o + Math.max(n, 0), o + T);
  return tokens;
}

/** Packs `items` (at most B) into one batch; missing rows are all padding. */
export function packRows(items: readonly SftItem[], B: number, T: number, pad: number): TokenBatch {
  const idx = new Int32Array(B * T).fill(pad);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  let tokens = 0;
  items.forEach((item, b) => {
    tokens += fillRow(idx, targets, b, T, item, pad);
  });
  return { idx, targets, B, T, tokens };
}

export interface SftBatchOptions {
  batch: number;
  block: number;
  seed: number;
  /** Padding token id (use the tokenizer's eot). */
  pad: number;
}

export interface SftBatcherState {
  readonly kind: "sft";
  readonly version: 1;
  readonly n: number;
  readonly fingerprint: number;
  readonly B: number;
  readonly T: number;
  readonly seed: number;
  readonly epoch: number;
  readonly cursor: number;
  readonly step: number;
}

export interface SftBatcher extends ResumableBatcher<SftBatcherState> {
  readonly epoch: number;
  readonly step: number;
}

/**
 * Shuffled epochs without replacement; each epoch's order comes from its own derived seed, so
 * a state is just (epoch, cursor). A batch that runs past the end of an epoch continues into
 * the next one, so every batch has B real rows.
 */
class ShuffledSft implements SftBatcher {
  private epochNo = 0;
  private cursor = 0;
  private steps = 0;
  private order: number[] = [];
  private orderEpoch = -1;
  private readonly print: number;

  constructor(
    private readonly items: readonly SftItem[],
    private readonly opts: SftBatchOptions,
  ) {
    if (items.length === 0) throw new DataConfigError("items", "the SFT batcher needs at least one example");
    expectInt("batch", opts.batch, 1);
    expectInt("block", opts.block, 1);
    for (const [i, it] of items.entries()) {
      if (it.ids.length > opts.block + 1) {
        throw new DataConfigError("block", `example ${i} has ${it.ids.length} tokens, more than block+1 = ${opts.block + 1}`);
      }
    }
    this.print = fingerprint(items.map((it) => it.ids));
  }

  get epoch(): number {
    return this.epochNo;
  }
  get step(): number {
    return this.steps;
  }

  private orderFor(epoch: number): number[] {
    if (this.orderEpoch !== epoch) {
      const rng = createRng(deriveSeed(this.opts.seed, "sft-epoch", epoch));
      this.order = rng.shuffle(Array.from(this.items.keys()));
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  next(): TokenBatch {
    const rows: SftItem[] = [];
    while (rows.length < this.opts.batch) {
      const order = this.orderFor(this.epochNo);
      rows.push(this.items[order[this.cursor]!]!);
      if (++this.cursor === order.length) {
        this.cursor = 0;
        this.epochNo++;
      }
    }
    this.steps++;
    return packRows(rows, this.opts.batch, this.opts.block, this.opts.pad);
  }

  state(): SftBatcherState {
    const { batch: B, block: T, seed } = this.opts;
    const n = this.items.length;
    return { kind: "sft", version: 1, n, fingerprint: this.print, B, T, seed, epoch: this.epochNo, cursor: this.cursor, step: this.steps };
  }

  restore(s: SftBatcherState): void {
    if (s?.kind !== "sft" || s.version !== 1) {
      throw new DataStateError(`Expected an SFT batcher state (version 1), got ${JSON.stringify(s)?.slice(0, 80)}`);
    }
    const mine = this.state();
    for (const k of ["n", "fingerprint", "B", "T", "seed"] as const) {
      if (s[k] !== mine[k]) {
        throw new DataStateError(`SFT state was saved with ${k}=${s[k]}, this batcher has ${k}=${mine[k]}; resume with the same data, shape and seed`);
      }
    }
    const ok = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v < max;
    if (!ok(s.cursor, this.items.length) || !ok(s.epoch, Number.MAX_SAFE_INTEGER) || !ok(s.step, Number.MAX_SAFE_INTEGER)) {
      throw new DataStateError(`Invalid SFT position epoch=${s.epoch} cursor=${s.cursor} step=${s.step}`);
    }
    this.epochNo = s.epoch;
    this.cursor = s.cursor;
    this.steps = s.step;
  }
}

export function createSftBatcher(items: readonly SftItem[], opts: SftBatchOptions): SftBatcher {
  expectInt("seed", opts.seed, Number.MIN_SAFE_INTEGER);
  return new ShuffledSft(items, opts);
}

/** Fixed-order batches covering every item once (for evaluation); the last one may be partial. */
export function sftEvalBatches(items: readonly SftItem[], opts: Omit<SftBatchOptions, "seed">): TokenBatch[] {
  expectInt("batch", opts.batch, 1);
  expectInt("block", opts.block, 1);
  const out: TokenBatch[] = [];
  for (let i = 0; i < items.length; i += opts.batch) {
    out.push(packRows(items.slice(i, i + opts.batch), opts.batch, opts.block, opts.pad));
  }
  return out;
}
