// The one PRNG of troupe: xoshiro128** (Blackman & Vigna), seeded through splitmix32.
// 32-bit state words only, so it is exact in JS numbers, fast, dependency-free, and its whole
// state is four integers: `state()` is plain JSON and `restore()` replays bitwise.
import { DataStateError } from "./errors.js";

/** The serializable state of an Rng: four unsigned 32-bit words, not all zero. */
export interface RngState {
  readonly kind: "xoshiro128**";
  readonly s: readonly [number, number, number, number];
}

export interface Rng {
  /** Next unsigned 32-bit integer. */
  u32(): number;
  /** Uniform float in [0, 1) with 53 random bits (two draws). */
  float(): number;
  /** Uniform integer in [0, n), unbiased (rejection); 1 <= n <= 2^32. */
  int(n: number): number;
  /** Standard normal (Box–Muller, no cached spare, so the state stays four words). */
  normal(): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
  state(): RngState;
  restore(state: RngState): void;
}

const TWO32 = 4294967296;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32: expands a 32-bit seed into a stream of well-mixed words. */
function splitmix32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t = t ^ (t >>> 15);
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** Folds any safe integer seed (negative and > 2^32 included) into 32 bits. */
function foldSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new DataStateError(`Expected the seed to be a safe integer, got ${String(seed)}`);
  }
  const lo = (seed % TWO32) >>> 0;
  const hi = Math.floor(seed / TWO32) >>> 0;
  return (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
}

/** The four state words for a seed. */
export function seedState(seed: number): RngState {
  const next = splitmix32(foldSeed(seed));
  const s: [number, number, number, number] = [next(), next(), next(), next()];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // the all-zero state is a fixed point
  return { kind: "xoshiro128**", s };
}

function checkState(state: unknown): [number, number, number, number] {
  const st = state as RngState | null;
  if (!st || typeof st !== "object" || st.kind !== "xoshiro128**" || !Array.isArray(st.s) || st.s.length !== 4) {
    throw new DataStateError(`Expected an xoshiro128** state {kind, s:[4 words]}, got ${JSON.stringify(state)}`);
  }
  const s = st.s.map((w) => {
    if (!Number.isInteger(w) || w < 0 || w >= TWO32) {
      throw new DataStateError(`Expected the RNG state words to be unsigned 32-bit integers, got ${JSON.stringify(st.s)}`);
    }
    return w;
  });
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) throw new DataStateError("The RNG state must not be all zero");
  return [s[0]!, s[1]!, s[2]!, s[3]!];
}

class Xoshiro128ss implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = checkState(state);
  }

  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  float(): number {
    const hi = this.u32() >>> 5; // 27 bits
    const lo = this.u32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) {
      throw new RangeError(`Expected "n" to be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO32 - (TWO32 % n); // largest multiple of n not above 2^32
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % n;
    }
  }

  normal(): number {
    const u = 1 - this.float(); // (0, 1]
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  state(): RngState {
    return { kind: "xoshiro128**", s: [this.s0, this.s1, this.s2, this.s3] };
  }

  restore(state: RngState): void {
    [this.s0, this.s1, this.s2, this.s3] = checkState(state);
  }
}

/** A new generator from an integer seed (or from a saved state). */
export function createRng(seed: number | RngState): Rng {
  return new Xoshiro128ss(typeof seed === "number" ? seedState(seed) : seed);
}

/** FNV-1a over the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export function hashString(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A child seed derived from a parent seed and labels, e.g. `deriveSeed(seed, "arithmetic",
 * "easy")`. Independent streams for independent things, so adding a domain or an epoch does
 * not shift the others.
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = splitmix32(foldSeed(seed))();
  for (const label of labels) h = splitmix32(hashString(String(label), h))();
  return h;
}
