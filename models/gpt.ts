// The GPT (gpt2 architecture) config as the rest of troupe uses it — validated, with defaults,
// construction from a seed — and, for every architecture, hidden-state capture at any set of
// layers (teacher, oracle, transfer path) and the logit lens (any residual-stream state through
// the final norm and the head). The networks are the kernels layer's; LoRA/DoRA wrap their
// Linear layers in place (lora/).
// Legend: B batch, T time, C channels (n_embd), V vocab, L layers.
import { createHash } from "node:crypto";
import { GPT, type GPTConfig, type Module, type ResolvedGPTConfig, type Tensor, clone, createRng, noGrad } from "../kernels/mod.js";
import type { CausalLM } from "./arch/types.js";
import { ModelConfigError } from "./errors.js";

export type { GPTConfig } from "../kernels/mod.js";
export { GPT } from "../kernels/mod.js";

/** The byte-level default for text: 4 layers of 128 channels, 4 heads, block 128. */
export const DEFAULT_TEXT_CONFIG: ResolvedGPTConfig = {
  vocabSize: 256,
  blockSize: 128,
  nEmbd: 128,
  nHead: 4,
  nLayer: 4,
  lnEps: 1e-5,
  tiedLmHead: true,
  dropout: 0,
};

function posInt(key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new ModelConfigError(key, `expected a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Checks a GPT config (from a user, a scenario or a manifest) and fills defaults. */
export function resolveGptConfig(raw: Partial<GPTConfig> | Record<string, unknown>, key = "model"): ResolvedGPTConfig {
  const r = raw as Record<string, unknown>;
  const c: ResolvedGPTConfig = {
    vocabSize: posInt(`${key}.vocabSize`, r.vocabSize ?? DEFAULT_TEXT_CONFIG.vocabSize),
    blockSize: posInt(`${key}.blockSize`, r.blockSize ?? DEFAULT_TEXT_CONFIG.blockSize),
    nEmbd: posInt(`${key}.nEmbd`, r.nEmbd ?? DEFAULT_TEXT_CONFIG.nEmbd),
    nHead: posInt(`${key}.nHead`, r.nHead ?? DEFAULT_TEXT_CONFIG.nHead),
    nLayer: posInt(`${key}.nLayer`, r.nLayer ?? DEFAULT_TEXT_CONFIG.nLayer),
    lnEps: typeof r.lnEps === "number" && r.lnEps > 0 ? r.lnEps : 1e-5,
    tiedLmHead: r.tiedLmHead === undefined ? true : r.tiedLmHead === true,
    dropout: typeof r.dropout === "number" ? r.dropout : 0,
  };
  if (r.mlpHidden !== undefined) {
    const h = posInt(`${key}.mlpHidden`, r.mlpHidden);
    if (h !== 4 * c.nEmbd) Object.assign(c, { mlpHidden: h });
  }
  if (c.nEmbd % c.nHead !== 0) throw new ModelConfigError(`${key}.nHead`, `nEmbd ${c.nEmbd} is not a multiple of nHead ${c.nHead}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ModelConfigError(`${key}.dropout`, `expected a number in [0, 1), got ${c.dropout}`);
  return c;
}

/** A new GPT with weights drawn from `seed` (GPT-2 init). */
export function createGpt(config: Partial<GPTConfig>, seed = 0): GPT {
  return new GPT(resolveGptConfig(config), createRng(seed));
}

function checkLayers(model: CausalLM, layers: readonly number[]): void {
  const L = model.dims.layers;
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l > L) {
      throw new ModelConfigError("layers", `layer ${l} is outside 0..${L} (0 = after the embeddings, i = after block i-1; this model has ${L} blocks)`);
    }
  }
}

export interface CaptureOptions {
  /** Record the graph so losses on the hidden states can backpropagate (default false: noGrad). */
  readonly grad?: boolean;
}

export interface Captured {
  /** [B, T, V] final logits. */
  readonly logits: Tensor;
  /** Residual-stream states [B, T, C] by layer index (0 = embeddings, i = after block i-1). */
  readonly hidden: Map<number, Tensor>;
}

/**
 * Runs idx [B, T] through the model and returns the residual stream at `layers` and the final
 * logits. Without `grad` nothing is recorded and the tensors are fresh copies (safe to keep
 * across workspace runs).
 */
export function captureHidden(model: CausalLM, idx: Tensor, layers: readonly number[], options: CaptureOptions = {}): Captured {
  checkLayers(model, layers);
  const run = () => {
    const out = model.forwardWithHidden(idx, { capture: layers });
    const hidden = new Map<number, Tensor>();
    for (const l of layers) hidden.set(l, options.grad ? out.hidden[l]! : clone(out.hidden[l]!));
    return { logits: options.grad ? out.logits : clone(out.logits), hidden };
  };
  return options.grad ? run() : noGrad(run);
}

/**
 * The logit lens: a residual-stream state [..., C] through the final norm and the head → [..., V].
 * `layer` is only checked (the same head decodes every layer); it documents where h came from.
 */
export function logitLens(model: CausalLM, hidden: Tensor, layer?: number): Tensor {
  if (layer !== undefined) checkLayers(model, [layer]);
  const C = model.dims.hidden;
  if (hidden.shape[hidden.shape.length - 1] !== C) {
    throw new ModelConfigError("hidden", `expected a state with ${C} channels in the last axis, got shape [${hidden.shape.join(",")}]`);
  }
  return model.logitLens(hidden);
}

/** A stable digest of a GPT config (the gpt2 architecture's; adapters record their base's). */
export function configDigest(config: GPTConfig): string {
  const c = resolveGptConfig(config);
  const canon = JSON.stringify([c.vocabSize, c.blockSize, c.nEmbd, c.nHead, c.nLayer, c.lnEps, c.tiedLmHead]);
  return createHash("sha256").update(canon).digest("hex");
}

/** SHA-256 over the names and bytes of a module's parameters whose names pass `keep`. */
export function weightsDigest(model: Module, keep: (name: string) => boolean = () => true): string {
  const h = createHash("sha256");
  const params = model.namedParameters().filter(([n]) => keep(n)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [n, t] of params) {
    h.update(n);
    h.update(JSON.stringify(t.shape));
    const d = t.data;
    h.update(new Uint8Array(d.buffer, d.byteOffset, t.size * d.BYTES_PER_ELEMENT));
  }
  return h.digest("hex");
}

/** Number of parameters (all, or only the trainable ones). */
export function countParameters(model: Module, trainableOnly = false): number {
  let n = 0;
  for (const t of model.parameters()) if (!trainableOnly || t.requiresGrad) n += t.size;
  return n;
}
