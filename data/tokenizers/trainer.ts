// Training a byte-level BPE tokenizer on a corpus, GPT-2 style: the text is cut into words by
// GPT-2's pre-tokenizer regex, each word becomes its UTF-8 bytes (ids 0..255 are the 256
// byte-level characters in GPT-2's order, so every text encodes and nothing is ever unknown),
// and merges are learned greedily: the most frequent adjacent pair becomes a new token, ties
// going to the smaller (left id, right id) as in the Rust crate's trainer. Pair counts are
// updated incrementally — only the words that contain the merged pair are rewritten, and only
// their pairs' counts change — with a lazy max-heap, so a 1 MB corpus trains in seconds.
// Legend: W distinct words, L word length in symbols, P distinct pairs.
import { DataConfigError } from "../errors.js";
import { BYTE_ORDER, BYTE_TO_CHAR, GPT2_SPLIT } from "./byte-level.js";

export interface BpeTrainOptions {
  /** Total vocabulary: 256 bytes + merges + special tokens. */
  readonly vocabSize: number;
  /** A pair seen fewer times than this is never merged (default 2). */
  readonly minFrequency?: number;
  /** Added special tokens, placed after the merges; the first is the end-of-text token (default ["<|endoftext|>"]). */
  readonly specialTokens?: readonly string[];
}

export interface TrainedBpe {
  /** id → token string (byte-level characters), bytes and merges only. */
  readonly tokens: string[];
  readonly merges: [string, string][];
  readonly specialTokens: string[];
  readonly stats: { readonly words: number; readonly distinctWords: number; readonly merges: number; readonly stoppedEarly: boolean; readonly ms: number };
}

const key = (a: number, b: number) => a * 0x200000 + b;

/** A max-heap of (count, pair key): larger count first, then the smaller pair. */
class PairHeap {
  private c: number[] = [];
  private k: number[] = [];
  get size(): number {
    return this.c.length;
  }
  private above(i: number, j: number): boolean {
    return this.c[i]! > this.c[j]! || (this.c[i] === this.c[j] && this.k[i]! < this.k[j]!);
  }
  private swap(i: number, j: number): void {
    [this.c[i], this.c[j]] = [this.c[j]!, this.c[i]!];
    [this.k[i], this.k[j]] = [this.k[j]!, this.k[i]!];
  }
  push(count: number, k: number): void {
    this.c.push(count);
    this.k.push(k);
    for (let i = this.c.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.c[0]!, this.k[0]!];
    const lc = this.c.pop()!;
    const lk = this.k.pop()!;
    if (this.c.length) {
      this.c[0] = lc;
      this.k[0] = lk;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.c.length && this.above(l, m)) m = l;
        if (r < this.c.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Learns merges from `text` (one string or several documents). */
export function trainBpe(text: string | Iterable<string>, o: BpeTrainOptions): TrainedBpe {
  const t0 = performance.now();
  const specials = [...(o.specialTokens ?? ["<|endoftext|>"])];
  const minFrequency = o.minFrequency ?? 2;
  const target = o.vocabSize - specials.length;
  if (!Number.isSafeInteger(o.vocabSize) || target < 256 || o.vocabSize > 0x200000) {
    throw new DataConfigError("vocab", `expected an integer in [${256 + specials.length}, 2097152] (256 bytes + ${specials.length} special), got ${o.vocabSize}`);
  }
  if (!Number.isSafeInteger(minFrequency) || minFrequency < 1) throw new DataConfigError("minFrequency", `expected a positive integer, got ${minFrequency}`);
  if (new Set(specials).size !== specials.length || specials.some((s) => !s)) throw new DataConfigError("specialTokens", "special tokens must be distinct and non-empty");

  // word counts
  const counts = new Map<string, number>();
  let total = 0;
  for (const doc of typeof text === "string" ? [text] : text) {
    for (const m of doc.matchAll(GPT2_SPLIT)) {
      counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
      total++;
    }
  }
  const tokens: string[] = BYTE_ORDER.map((b) => BYTE_TO_CHAR[b]!);
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const idOfByte = new Int32Array(256);
  BYTE_ORDER.forEach((b, i) => (idOfByte[b] = i));
  const enc = new TextEncoder();
  const words: Int32Array[] = [];
  const lens: number[] = [];
  const freq: number[] = [];
  for (const [w, c] of counts) {
    const bytes = enc.encode(w);
    words.push(Int32Array.from(bytes, (b) => idOfByte[b]!));
    lens.push(bytes.length);
    freq.push(c);
  }

  // pair counts and where each pair occurs (a superset: stale entries are skipped)
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  words.forEach((w, i) => {
    for (let j = 0; j + 1 < lens[i]!; j++) {
      const k = key(w[j]!, w[j + 1]!);
      pairCount.set(k, (pairCount.get(k) ?? 0) + freq[i]!);
      const list = where.get(k);
      if (!list) where.set(k, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  });
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  const merges: [string, string][] = [];
  const seen = new Int32Array(words.length).fill(-1);
  let stoppedEarly = false;
  while (tokens.length < target) {
    if (heap.size === 0) {
      stoppedEarly = true;
      break;
    }
    const [c, k] = heap.pop();
    if (pairCount.get(k) !== c) continue; // stale entry; the current count has its own entry
    if (c < minFrequency) {
      stoppedEarly = true;
      break;
    }
    const a = Math.floor(k / 0x200000);
    const b = k - a * 0x200000;
    // two merges can spell the same token ("ab"+"c", "a"+"bc"): it keeps its first id
    const joined = tokens[a]! + tokens[b]!;
    let z = idOf.get(joined);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(joined);
      idOf.set(joined, z);
    }
    merges.push([tokens[a]!, tokens[b]!]);
    const stamp = merges.length;
    const delta = new Map<number, number>();
    const bump = (p: number, d: number) => delta.set(p, (delta.get(p) ?? 0) + d);
    for (const wi of where.get(k) ?? []) {
      if (seen[wi] === stamp) continue;
      seen[wi] = stamp;
      const w = words[wi]!;
      const n = lens[wi]!;
      const f = freq[wi]!;
      let has = false;
      for (let j = 0; j + 1 < n; j++) if (w[j] === a && w[j + 1] === b) has = true;
      if (!has) continue;
      for (let j = 0; j + 1 < n; j++) bump(key(w[j]!, w[j + 1]!), -f);
      // merge left to right, non-overlapping (as applying the merge to the word would)
      let o = 0;
      for (let j = 0; j < n; j++) {
        if (j + 1 < n && w[j] === a && w[j + 1] === b) {
          w[o++] = z;
          j++;
        } else w[o++] = w[j]!;
      }
      lens[wi] = o;
      for (let j = 0; j + 1 < o; j++) {
        const p = key(w[j]!, w[j + 1]!);
        bump(p, f);
        if (w[j] === z || w[j + 1] === z) {
          const list = where.get(p);
          if (!list) where.set(p, [wi]);
          else if (list[list.length - 1] !== wi) list.push(wi);
        }
      }
    }
    where.delete(k);
    for (const [p, d] of delta) {
      if (d === 0) continue;
      const now = (pairCount.get(p) ?? 0) + d;
      if (now > 0) {
        pairCount.set(p, now);
        heap.push(now, p);
      } else {
        pairCount.delete(p);
        where.delete(p);
      }
    }
  }
  return {
    tokens, merges, specialTokens: specials,
    stats: { words: total, distinctWords: words.length, merges: merges.length, stoppedEarly, ms: performance.now() - t0 },
  };
}
