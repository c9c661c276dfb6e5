// Sampling from a GPT: one sequence with temperature / top-k (troupe generate), and batched
// greedy decoding of many prompts at once (exact-match evaluation). No KV cache: each new
// token re-runs the (cropped) context, which is fast enough at these model sizes.
// Legend: B batch rows, T time, V vocab.
import type { CausalLM } from "./arch/mod.js";
import { createRng, fromArray, noGrad, workspace } from "../kernels/mod.js";
import { ModelConfigError } from "./errors.js";

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
}

const ws = workspace();

/** Logits [B, V] at each row's last position for left-aligned rows of different lengths. */
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

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Continues `prompt` (token ids); returns the new tokens only. */
export function generate(model: CausalLM, prompt: Int32Array, options: GenerateOptions = {}): Int32Array {
  const maxTokens = options.maxTokens ?? 200;
  const temperature = options.temperature ?? 1;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new ModelConfigError("generate.maxTokens", `expected a non-negative integer, got ${maxTokens}`);
  if (!(temperature >= 0)) throw new ModelConfigError("generate.temperature", `expected a number >= 0, got ${temperature}`);
  if (prompt.length === 0) throw new ModelConfigError("generate.prompt", "the prompt is empty (give at least one token)");
  const rng = createRng(options.seed ?? 0);
  const wasTraining = model.training;
  model.eval();
  const seq = Array.from(prompt);
  const out: number[] = [];
  try {
    while (out.length < maxTokens) {
      const logits = lastLogits(model, [Int32Array.from(seq)])[0]!;
      const next = temperature === 0 ? argmax(logits) : sample(logits, temperature, options.topK, rng.next());
      seq.push(next);
      out.push(next);
      if (next === options.stopToken) break;
    }
  } finally {
    model.train(wasTraining);
  }
  return Int32Array.from(out);
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

/** Greedy continuations of many prompts, `batch` rows at a time, each stopping at `stopToken`. */
export function greedyBatch(model: CausalLM, prompts: readonly Int32Array[], options: { maxTokens: number; stopToken: number; batch?: number }): Int32Array[] {
  const batch = options.batch ?? 64;
  const results: number[][] = prompts.map(() => []);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let start = 0; start < prompts.length; start += batch) {
      let active = prompts.slice(start, start + batch).map((p, k) => ({ i: start + k, seq: Array.from(p) }));
      for (let t = 0; t < options.maxTokens && active.length > 0; t++) {
        const logits = lastLogits(model, active.map((a) => Int32Array.from(a.seq)));
        active.forEach((a, b) => {
          const next = argmax(logits[b]!);
          a.seq.push(next);
          results[a.i]!.push(next);
        });
        active = active.filter((a) => a.seq[a.seq.length - 1] !== options.stopToken);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return results.map((r) => Int32Array.from(r));
}
