// Sampling from a model: one sequence with temperature / top-k (troupe generate), and batched
// greedy decoding of many prompts at once (exact-match evaluation). Both decode incrementally
// with a KV cache: the prompt is one forward pass (prefill), then each new token is one row
// through the network. While the sequence fits the model's context (maxPositions) this gives
// the tokens of re-running the whole context every step (`cache: false`, kept as the check),
// up to float rounding. Past the context, the uncached path re-reads the last maxPositions
// tokens for every new token; the cached one shifts its window by a quarter, re-reading the last
// three quarters once (as llama.cpp's context shift does), so from there on the two may differ.
// Legend: B batch rows, T time, V vocab, W the context window (maxPositions).
import type { CausalLM } from "./arch/mod.js";
import { type KvCache, type Workspace, createRng, fromArray, noGrad, workspace } from "../kernels/mod.js";
import { ModelConfigError } from "./errors.js";
import { chooseToken } from "./sampling.js";

export interface GenerateOptions {
  /** New tokens at most (default 200). */
  readonly maxTokens?: number;
  /** 0: greedy; default 1. */
  readonly temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  readonly topK?: number;
  readonly seed?: number;
  /** Stop after emitting this token (it is included in the output). */
  readonly stopToken?: number;
  /** Decode with a KV cache (default true); false re-runs the cropped context for every token. */
  readonly cache?: boolean;
  /** Keep the smallest set of likely tokens whose probability reaches p (nucleus sampling; default 1). */
  readonly topP?: number;
  /** > 1: tokens of the prompt and the output so far become less likely (default 1: off). */
  readonly repetitionPenalty?: number;
  /** Each new token as it is chosen (streaming); returning true stops after it (stop strings). */
  readonly onToken?: (token: number, output: readonly number[]) => boolean | void;
}

const ws = workspace();

/** Logits [B, V] at each row's last position for left-aligned rows of different lengths (no cache). */
function lastLogits(model: CausalLM, rows: readonly Int32Array[]): Float32Array[] {
  const block = model.dims.maxPositions;
  const V = model.dims.vocabSize;
  const windows = rows.map((r) => (r.length > block ? r.subarray(r.length - block) : r));
  const T = Math.max(...windows.map((w) => w.length));
  const idx = new Int32Array(windows.length * T);
  windows.forEach((w, b) => idx.set(w, b * T));
  return ws.run(() => noGrad(() => {
    const logits = model.forward(fromArray(idx, [windows.length, T])).f32();
    return windows.map((w, b) => logits.slice((b * T + w.length - 1) * V, (b * T + w.length) * V));
  }));
}

/**
 * Incremental decoding of B rows with one KV cache: prefill() the histories (left-padded to the
 * longest), then step() one token per row. Rows can be dropped (keep()) when they finish.
 */
class Decoder {
  private cache: KvCache;
  private readonly window: number;
  private readonly stepWs: Workspace = workspace();

  /** `upTo`: the most tokens a row will hold (prompt + new ones); the cache is no larger than that. */
  constructor(private readonly model: CausalLM, private seqs: number[][], upTo: number) {
    this.window = model.dims.maxPositions;
    this.cache = model.createCache(seqs.length, Math.max(1, Math.min(this.window, upTo)));
  }

  /** Fills the cache from each row's last `keep` tokens; returns each row's next-token logits. */
  prefill(keep = this.window): Float32Array[] {
    const rows = this.seqs.map((s) => s.slice(Math.max(0, s.length - keep)));
    const T = Math.max(...rows.map((r) => r.length));
    const idx = new Int32Array(rows.length * T);
    const start = rows.map((r, b) => {
      idx.set(r, b * T + T - r.length);
      return T - r.length;
    });
    this.cache.reset(start);
    const V = this.model.dims.vocabSize;
    return noGrad(() => {
      const logits = this.model.forwardCached(fromArray(idx, [rows.length, T]), this.cache).f32();
      return rows.map((_, b) => logits.slice((b * T + T - 1) * V, (b * T + T) * V));
    });
  }

  /** Appends one token per row; returns the next logits. Shifts the window when it is full. */
  step(next: readonly number[]): Float32Array[] {
    next.forEach((t, b) => this.seqs[b]!.push(t));
    if (this.cache.free === 0) return this.prefill(this.window - Math.max(1, this.window >> 2));
    const V = this.model.dims.vocabSize;
    return this.stepWs.run(() => noGrad(() => {
      const logits = this.model.forwardCached(fromArray(Int32Array.from(next), [next.length, 1]), this.cache).f32();
      return next.map((_, b) => logits.slice(b * V, (b + 1) * V));
    }));
  }

  /** Keeps only `rows` (in that order). */
  keep(rows: readonly number[]): void {
    this.cache = this.cache.select(rows);
    this.seqs = rows.map((r) => this.seqs[r]!);
  }
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

function withEval<T>(model: CausalLM, fn: () => T): T {
  const wasTraining = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(wasTraining);
  }
}

/** Continues `prompt` (token ids); returns the new tokens only. */
export function generate(model: CausalLM, prompt: Int32Array, options: GenerateOptions = {}): Int32Array {
  const maxTokens = options.maxTokens ?? 200;
  const temperature = options.temperature ?? 1;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new ModelConfigError("generate.maxTokens", `expected a non-negative integer, got ${maxTokens}`);
  if (!(temperature >= 0)) throw new ModelConfigError("generate.temperature", `expected a number >= 0, got ${temperature}`);
  if (prompt.length === 0) throw new ModelConfigError("generate.prompt", "the prompt is empty (give at least one token)");
  const rng = createRng(options.seed ?? 0);
  if (options.topP !== undefined && !(options.topP > 0 && options.topP <= 1)) throw new ModelConfigError("generate.topP", `expected a number in (0, 1], got ${options.topP}`);
  if (options.repetitionPenalty !== undefined && !(options.repetitionPenalty > 0)) throw new ModelConfigError("generate.repetitionPenalty", `expected a number > 0, got ${options.repetitionPenalty}`);
  const plain = (options.topP ?? 1) === 1 && (options.repetitionPenalty ?? 1) === 1;
  const seen = (): number[] => [...prompt, ...out];
  const pick = (logits: Float32Array) =>
    temperature === 0 && plain ? argmax(logits)
      : plain ? sample(logits, temperature, options.topK, rng.next())
      : chooseToken(logits, seen(), { temperature, ...(options.topK !== undefined ? { topK: options.topK } : {}), ...(options.topP !== undefined ? { topP: options.topP } : {}), ...(options.repetitionPenalty !== undefined ? { repetitionPenalty: options.repetitionPenalty } : {}) }, temperature === 0 ? 0 : rng.next());
  const out: number[] = [];
  if (maxTokens === 0) return Int32Array.from(out);
  return withEval(model, () => {
    if (options.cache === false) {
      const seq = Array.from(prompt);
      while (out.length < maxTokens) {
        const next = pick(lastLogits(model, [Int32Array.from(seq)])[0]!);
        seq.push(next);
        out.push(next);
        if (options.onToken?.(next, out) === true) break;
        if (next === options.stopToken) break;
      }
      return Int32Array.from(out);
    }
    const dec = new Decoder(model, [Array.from(prompt)], prompt.length + maxTokens);
    let logits = dec.prefill()[0]!;
    for (;;) {
      const next = pick(logits);
      out.push(next);
      if (options.onToken?.(next, out) === true) break;
      if (next === options.stopToken || out.length >= maxTokens) break;
      logits = dec.step([next])[0]!;
    }
    return Int32Array.from(out);
  });
}

/** Softmax(logits / T) restricted to the top k, sampled with the uniform u in [0, 1). */
export function sample(logits: Float32Array, temperature: number, topK: number | undefined, u: number): number {
  const V = logits.length;
  let order = Array.from({ length: V }, (_, i) => i);
  if (topK !== undefined && topK > 0 && topK < V) order = order.sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, topK);
  let max = -Infinity;
  for (const i of order) max = Math.max(max, logits[i]!);
  const p = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  const z = p.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (let j = 0; j < order.length; j++) {
    acc += p[j]! / z;
    if (u < acc) return order[j]!;
  }
  return order[order.length - 1]!;
}

export interface GreedyBatchOptions {
  readonly maxTokens: number;
  readonly stopToken: number;
  /** Rows decoded together (default 64). */
  readonly batch?: number;
  /** KV cache (default true). */
  readonly cache?: boolean;
}

/** Greedy continuations of many prompts, `batch` rows at a time, each stopping at `stopToken`. */
export function greedyBatch(model: CausalLM, prompts: readonly Int32Array[], options: GreedyBatchOptions): Int32Array[] {
  const batch = options.batch ?? 64;
  const results: number[][] = prompts.map(() => []);
  withEval(model, () => {
    for (let start = 0; start < prompts.length; start += batch) {
      const chunk = prompts.slice(start, start + batch).map((p, k) => ({ i: start + k, seq: Array.from(p) }));
      if (options.cache === false) {
        let active = chunk;
        for (let t = 0; t < options.maxTokens && active.length > 0; t++) {
          const logits = lastLogits(model, active.map((a) => Int32Array.from(a.seq)));
          active.forEach((a, b) => {
            const next = argmax(logits[b]!);
            a.seq.push(next);
            results[a.i]!.push(next);
          });
          active = active.filter((a) => a.seq[a.seq.length - 1] !== options.stopToken);
        }
        continue;
      }
      if (options.maxTokens <= 0 || chunk.length === 0) continue;
      const dec = new Decoder(model, chunk.map((c) => [...c.seq]), Math.max(...chunk.map((c) => c.seq.length)) + options.maxTokens);
      let active = chunk.map((c) => c.i);
      let logits = dec.prefill();
      for (let t = 0; ; t++) {
        const next = logits.map((l) => argmax(l));
        next.forEach((n, b) => results[active[b]!]!.push(n));
        if (t + 1 >= options.maxTokens) break;
        const live = next.map((n, b) => (n === options.stopToken ? -1 : b)).filter((b) => b >= 0);
        if (live.length === 0) break;
        if (live.length < active.length) {
          dec.keep(live);
          active = live.map((b) => active[b]!);
        }
        logits = dec.step(live.map((b) => next[b]!));
      }
    }
  });
  return results.map((r) => Int32Array.from(r));
}
