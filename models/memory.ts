// How much memory training a GPT will take, estimated before anything is allocated, so that
// `troupe train --embd 8192 --layers 64` is refused with the numbers instead of growing until
// the machine runs out. Counted in float32 as troupe trains: the parameters, their gradients
// and AdamW's two moments (only the trainable ones: a LoRA run keeps no gradient or moment of
// the frozen base), the activations the autograd tape keeps for one micro-batch (llm.c's
// accounting, attention matrices included) and the same again as backward workspace.
// Legend: B batch, T time (block), C channels, V vocab, L layers, H heads.
import type { GPTConfig } from "../kernels/mod.js";

const F32 = 4;

export interface MemoryEstimate {
  readonly parameters: number;
  readonly trainable: number;
  /** bytes */
  readonly params: number;
  readonly grads: number;
  readonly optimizer: number;
  readonly activations: number;
  readonly workspace: number;
  readonly total: number;
}

export interface MemoryEstimateOptions {
  /** rows per micro-batch */
  readonly batch: number;
  /** trainable parameters when not all are (a LoRA adapter); default all */
  readonly trainable?: number;
}

/** Parameters of a GPT: embeddings, L blocks of 12C² + 13C, the final norm, an untied head. */
export function gptParameterCount(c: Required<Pick<GPTConfig, "vocabSize" | "blockSize" | "nEmbd" | "nLayer">> & { tiedLmHead?: boolean }): number {
  const { vocabSize: V, blockSize: T, nEmbd: C, nLayer: L } = c;
  return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C + (c.tiedLmHead === false ? V * C : 0);
}

/** Activation floats the tape keeps for one micro-batch (B, T) of a GPT. */
export function gptActivationCount(c: Required<Pick<GPTConfig, "vocabSize" | "blockSize" | "nEmbd" | "nHead" | "nLayer">>, B: number): number {
  const { vocabSize: V, blockSize: T, nEmbd: C, nHead: H, nLayer: L } = c;
  const BT = B * T;
  // per block: ln1, qkv (3C), attention out, attention scores and probabilities (H·T each), proj,
  // residual, ln2, fc (4C) and gelu (4C), fc proj, residual; plus norm statistics
  const block = BT * C * 16 + 2 * B * H * T * T + 4 * BT;
  return BT * C + L * block + BT * C + 2 * BT + 2 * BT * V + BT;
}

/** `parameters`: the model's own count when it is not a GPT (a Llama from --model); the activations stay a GPT's estimate. */
export function estimateTrainingMemory(c: Required<Pick<GPTConfig, "vocabSize" | "blockSize" | "nEmbd" | "nHead" | "nLayer">> & { tiedLmHead?: boolean; parameters?: number }, o: MemoryEstimateOptions): MemoryEstimate {
  const parameters = c.parameters ?? gptParameterCount(c);
  const trainable = o.trainable ?? parameters;
  const params = parameters * F32;
  const grads = trainable * F32;
  const optimizer = 2 * trainable * F32;
  const activations = gptActivationCount(c, o.batch) * F32;
  const workspace = activations;
  return { parameters, trainable, params, grads, optimizer, activations, workspace, total: params + grads + optimizer + activations + workspace };
}

/** "1.2 GiB" */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
