// Random windows over a token stream for language-model batches, and the fixed windows used
// for validation. Legend: B batch rows, T time (block size), n stream length.
//
// A training batch takes B windows of T+1 tokens at uniform random starts in [0, n-T-1];
// idx = window[0..T), targets = window[1..T]. The sampler's whole position is its RNG state
// and step count, so `restore(state())` replays the identical batches.
import { fingerprint, type ResumableBatcher, type TokenBatch } from "./batch.js";
import { CorpusError, DataStateError } from "./errors.js";
import { createRng, type RngState } from "./rng.js";
import { expectInt } from "./validate.js";
import { IGNORE_INDEX } from "../kernels/constants.js";

export interface WindowOptions {
  /** B */
  batch: number;
  /** T */
  block: number;
  seed: number;
}

export interface WindowSamplerState {
  readonly kind: "windows";
  readonly version: 1;
  /** Stream length and content hash, B and T: a state only restores into the same sampler. */
  readonly n: number;
  readonly fingerprint: number;
  readonly B: number;
  readonly T: number;
  readonly step: number;
  readonly rng: RngState;
}

export interface WindowSampler extends ResumableBatcher<WindowSamplerState> {
  /** Batches produced so far. */
  readonly step: number;
}

function checkShape(n: number, B: number, T: number): void {
  expectInt("batch", B, 1);
  expectInt("block", T, 1);
  if (n < T + 1) {
    throw new CorpusError(`A stream of ${n} tokens is too short for windows of block+1 = ${T + 1} tokens`);
  }
}

class RandomWindows implements WindowSampler {
  private readonly rng;
  private readonly print: number;
  private steps = 0;

  constructor(
    private readonly stream: Int32Array,
    private readonly B: number,
    private readonly T: number,
    seed: number,
  ) {
    checkShape(stream.length, B, T);
    this.rng = createRng(seed);
    this.print = fingerprint([stream]);
  }

  get step(): number {
    return this.steps;
  }

  next(): TokenBatch {
    const { B, T, stream } = this;
    const idx = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const starts = stream.length - T; // number of valid starts: 0 .. n-T-1
    for (let b = 0; b < B; b++) {
      const s = this.rng.int(starts);
      idx.set(stream.subarray(s, s + T), b * T);
      targets.set(stream.subarray(s + 1, s + T + 1), b * T);
    }
    this.steps++;
    return { idx, targets, B, T, tokens: B * T };
  }

  state(): WindowSamplerState {
    const { B, T } = this;
    return { kind: "windows", version: 1, n: this.stream.length, fingerprint: this.print, B, T, step: this.steps, rng: this.rng.state() };
  }

  restore(state: WindowSamplerState): void {
    if (state?.kind !== "windows" || state.version !== 1) {
      throw new DataStateError(`Expected a windows sampler state (version 1), got ${JSON.stringify(state)?.slice(0, 80)}`);
    }
    const want = { n: this.stream.length, B: this.B, T: this.T };
    if (state.n !== want.n || state.B !== want.B || state.T !== want.T) {
      throw new DataStateError(
        `Sampler state was saved for n=${state.n} B=${state.B} T=${state.T}, but this sampler has ` +
          `n=${want.n} B=${want.B} T=${want.T}; resume with the same corpus and batch shape`,
      );
    }
    if (state.fingerprint !== this.print) {
      throw new DataStateError("Sampler state was saved for a different token stream (fingerprint differs)");
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new DataStateError(`Invalid step ${state.step}`);
    this.rng.restore(state.rng);
    this.steps = state.step;
  }
}

/** Seeded random windows over `stream` (usually `corpus.train`). */
export function createWindowSampler(stream: Int32Array, opts: WindowOptions): WindowSampler {
  return new RandomWindows(stream, opts.batch, opts.block, expectInt("seed", opts.seed, Number.MIN_SAFE_INTEGER));
}

/**
 * Fixed validation batches: consecutive non-overlapping windows (stride T) from the start of
 * `stream`, B per batch, at most `maxBatches`. The last batch's unused rows are padding with
 * IGNORE_INDEX targets, so every token of the covered range counts exactly once.
 */
export function evalWindows(stream: Int32Array, opts: { batch: number; block: number; maxBatches?: number }): TokenBatch[] {
  const B = opts.batch;
  const T = opts.block;
  checkShape(stream.length, B, T);
  const windows = Math.floor((stream.length - 1) / T);
  const maxBatches = opts.maxBatches ?? Number.MAX_SAFE_INTEGER;
  const out: TokenBatch[] = [];
  for (let w = 0; w < windows && out.length < maxBatches; w += B) {
    const idx = new Int32Array(B * T);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    let tokens = 0;
    for (let b = 0; b < B && w + b < windows; b++) {
      const s = (w + b) * T;
      idx.set(stream.subarray(s, s + T), b * T);
      targets.set(stream.subarray(s + 1, s + T + 1), b * T);
      tokens += T;
    }
    out.push({ idx, targets, B, T, tokens });
  }
  return out;
}
