// A seeded random number generator (xoshiro128**, splitmix32 seeding) for initialisation,
// dropout seeds and test data. Its whole state is four 32-bit words plus a cached normal, so it
// can be saved with a checkpoint and restored to continue the exact same stream.
import { ArgumentError } from "../errors.js";

export interface RngState {
  readonly s: readonly [number, number, number, number];
  /** A cached second normal from Box-Muller, or null. */
  readonly spare: number | null;
}

export interface Rng {
  /** Uniform in [0, 1) with 32 random bits. */
  next(): number;
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform in [lo, hi). */
  uniform(lo?: number, hi?: number): number;
  /** Normal with the given mean and standard deviation. */
  normal(mean?: number, std?: number): number;
  /** An integer in [0, n). */
  int(n: number): number;
  state(): RngState;
  setState(state: RngState): void;
  /** An independent generator seeded from this one. */
  fork(): Rng;
}

function splitmix32(seed: number): () => number {
  let z = seed >>> 0;
  return () => {
    z = (z + 0x9e3779b9) >>> 0;
    let x = z;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
}

class Xoshiro128 implements Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed: number) {
    const sm = splitmix32(seed);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new ArgumentError({ op: "rng.int", arg: "n" }, `Expected "n" to be a positive integer, got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  state(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  setState(state: RngState): void {
    const ok = Array.isArray(state?.s) && state.s.length === 4 && state.s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    if (!ok || !(state.spare === null || Number.isFinite(state.spare))) {
      throw new ArgumentError({ op: "rng.setState", arg: "state" }, "Expected a state from rng.state(): { s: four uint32 words, spare: number | null }");
    }
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((w) => w | 0) as [number, number, number, number];
    this.spare = state.spare;
  }

  fork(): Rng {
    return new Xoshiro128(this.nextU32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A generator seeded with a 32-bit integer. */
export function createRng(seed = 0): Rng {
  if (!Number.isInteger(seed)) {
    throw new ArgumentError({ op: "createRng", arg: "seed" }, `Expected "seed" to be an integer, got ${seed}`);
  }
  return new Xoshiro128(seed);
}
