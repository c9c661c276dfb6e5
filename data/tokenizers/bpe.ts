// The BPE model of a tokenizer.json: a vocabulary, ranked merges and the options real
// tokenizers use (unk_token, fuse_unk, byte_fallback, ignore_merges). Encoding one pre-token
// ("word") starts from its characters and repeatedly merges the adjacent pair with the lowest
// rank, leftmost first on ties — the rule of the Rust `tokenizers` crate and of
// @huggingface/tokenizers. Short words use a scan, long ones (a whole text with no
// pre-tokenizer, as SentencePiece-style tokenizers have) a heap, so both stay fast.
// Legend: n symbols in the word, V vocabulary size, M merges.
import { TokenizerError } from "../errors.js";

export interface BpeOptions {
  readonly vocab: ReadonlyMap<string, number>;
  /** Ranked merges, each a pair of vocabulary tokens whose concatenation is in the vocabulary. */
  readonly merges: readonly (readonly [string, string])[];
  readonly unkToken: string | null;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
}

const SHORT = 48;
const CACHE_MAX = 100_000;
/** A pair of ids as one number: a * 2^21 + b (ids < 2^21). */
const key = (a: number, b: number) => a * 0x200000 + b;

export class BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks = new Map<number, number>();
  private readonly mergedId: Int32Array;
  private readonly unkId: number;
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly cache = new Map<string, Int32Array>();

  constructor(private readonly o: BpeOptions) {
    this.vocab = o.vocab;
    for (const [, id] of o.vocab) {
      if (!Number.isSafeInteger(id) || id < 0 || id >= 0x200000) throw new TokenizerError(`model.vocab: id ${id} is not an integer in [0, 2^21)`);
    }
    this.mergedId = new Int32Array(o.merges.length);
    o.merges.forEach(([a, b], rank) => {
      const ia = o.vocab.get(a);
      const ib = o.vocab.get(b);
      const iz = o.vocab.get(a + b);
      if (ia === undefined || ib === undefined || iz === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new TokenizerError(`model.merges[${rank}] ${JSON.stringify([a, b])}: token ${JSON.stringify(missing)} is not in the vocabulary`);
      }
      const k = key(ia, ib);
      if (!this.ranks.has(k)) this.ranks.set(k, rank);
      this.mergedId[rank] = iz;
    });
    this.unkId = o.unkToken === null ? -1 : o.vocab.get(o.unkToken) ?? -1;
    if (o.unkToken !== null && this.unkId < 0) throw new TokenizerError(`model.unk_token ${JSON.stringify(o.unkToken)} is not in the vocabulary`);
    if (o.byteFallback) {
      for (let b = 0; b < 256; b++) this.byteIds[b] = o.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? -1;
    }
  }

  /** Appends the ids of one pre-token to `out`. */
  encodeWord(word: string, out: number[]): void {
    if (word.length === 0) return;
    if (this.o.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) {
        out.push(id);
        return;
      }
    }
    let ids = this.cache.get(word);
    if (!ids) {
      ids = this.merge(this.symbols(word));
      if (word.length <= 256) {
        // words repeat; a whole text as one word (no pre-tokenizer) does not
        if (this.cache.size >= CACHE_MAX) this.cache.clear();
        this.cache.set(word, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  /** The initial symbols: one per character; unknown ones become byte tokens, unk, or nothing. */
  private symbols(word: string): number[] {
    const ids: number[] = [];
    let lastUnk = false;
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        ids.push(id);
        lastUnk = false;
        continue;
      }
      if (this.o.byteFallback) {
        const bytes = new TextEncoder().encode(ch);
        const byteIds = Array.from(bytes, (b) => this.byteIds[b]!);
        if (byteIds.every((b) => b >= 0)) {
          ids.push(...byteIds);
          lastUnk = false;
          continue;
        }
      }
      if (this.unkId < 0) {
        // the Rust crate drops the character before merging, @huggingface/tokenizers after it
        // (so their ids differ); either way text is lost, so troupe refuses instead
        const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new TokenizerError(`U+${cp} ${JSON.stringify(ch)} is not in the vocabulary and the tokenizer has neither an unk_token nor byte_fallback: it cannot be encoded without losing it`);
      }
      if (!(this.o.fuseUnk && lastUnk)) ids.push(this.unkId);
      lastUnk = true;
    }
    return ids;
  }

  private merge(ids: number[]): Int32Array {
    return ids.length <= SHORT ? this.mergeScan(ids) : this.mergeHeap(ids);
  }

  /** O(n²): find the lowest-ranked adjacent pair (leftmost on ties), merge it, repeat. */
  private mergeScan(ids: number[]): Int32Array {
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.ranks.get(key(ids[i]!, ids[i + 1]!));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) return Int32Array.from(ids);
      ids.splice(best, 2, this.mergedId[bestRank]!);
    }
  }

  /** O(n log n): the same rule with a min-heap of (rank, position) over a linked list. */
  private mergeHeap(start: number[]): Int32Array {
    const n = start.length;
    const id = Int32Array.from(start);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap: number[] = [];
    const POS = 0x8000000; // 2^27 positions
    const push = (i: number) => {
      const j = next[i]!;
      if (j < 0) return;
      const r = this.ranks.get(key(id[i]!, id[j]!));
      if (r === undefined) return;
      heap.push(r * POS + i);
      let c = heap.length - 1;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (heap[p]! <= heap[c]!) break;
        [heap[p], heap[c]] = [heap[c]!, heap[p]!];
        c = p;
      }
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          const r = l + 1;
          let m = c;
          if (l < heap.length && heap[l]! < heap[m]!) m = l;
          if (r < heap.length && heap[r]! < heap[m]!) m = r;
          if (m === c) break;
          [heap[m], heap[c]] = [heap[c]!, heap[m]!];
          c = m;
        }
      }
      return top;
    };
    for (let i = 0; i < n; i++) push(i);
    while (heap.length) {
      const e = pop();
      const rank = Math.floor(e / POS);
      const i = e - rank * POS;
      const j = next[i]!;
      if (!alive[i] || j < 0 || this.ranks.get(key(id[i]!, id[j]!)) !== rank) continue; // stale
      id[i] = this.mergedId[rank]!;
      alive[j] = 0;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      if (prev[i]! >= 0) push(prev[i]!);
      push(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]!) out.push(id[i]!);
    return Int32Array.from(out);
  }
}
