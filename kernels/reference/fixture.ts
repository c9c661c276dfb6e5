// Reference fixtures in the format of ../shared/fixtures (made with PyTorch): a safetensors file
// whose __metadata__.config holds the GPT config and the AdamW settings, with the parameters,
// the inputs, and the expected logits, loss, gradients, training losses and final parameters.
import { FormatError } from "../errors.js";
import { readSafetensors } from "../io/safetensors.js";
import type { GPTConfig } from "../nn/gpt.js";
import type { Tensor } from "../tensor/tensor.js";

export interface FixtureAdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weight_decay: number;
  readonly steps: number;
}

export interface FixtureConfig {
  readonly vocab_size: number;
  readonly block_size: number;
  readonly n_embd: number;
  readonly n_head: number;
  readonly n_layer: number;
  readonly batch: number;
  readonly ln_eps: number;
  readonly gelu: string;
  readonly tied_lm_head: boolean;
  readonly adamw: FixtureAdamW;
}

export interface Fixture {
  readonly path: string;
  readonly config: FixtureConfig;
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

function need<T>(path: string, obj: Record<string, unknown>, key: string, kind: "number" | "string" | "boolean" | "object", dflt?: T): T {
  const v = obj[key] ?? dflt;
  if (typeof v !== kind || v === null) {
    throw new FormatError(`${path}: __metadata__.config.${key} must be a ${kind}, got ${JSON.stringify(obj[key])}`);
  }
  return v as T;
}

/** Reads and checks a reference fixture; any config in the format is accepted. */
export function loadFixture(path: string): Fixture {
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.config === undefined) throw new FormatError(`${path}: no __metadata__.config (is this a troupe reference fixture?)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(metadata.config) as Record<string, unknown>;
  } catch (err) {
    throw new FormatError(`${path}: __metadata__.config is not JSON`, { cause: err });
  }
  const adam = need<Record<string, unknown>>(path, raw, "adamw", "object");
  const config: FixtureConfig = {
    vocab_size: need(path, raw, "vocab_size", "number"),
    block_size: need(path, raw, "block_size", "number"),
    n_embd: need(path, raw, "n_embd", "number"),
    n_head: need(path, raw, "n_head", "number"),
    n_layer: need(path, raw, "n_layer", "number"),
    batch: need(path, raw, "batch", "number"),
    ln_eps: need(path, raw, "ln_eps", "number", 1e-5),
    gelu: need(path, raw, "gelu", "string", "tanh"),
    tied_lm_head: need(path, raw, "tied_lm_head", "boolean", true),
    adamw: {
      lr: need(path, adam, "lr", "number"),
      beta1: need(path, adam, "beta1", "number"),
      beta2: need(path, adam, "beta2", "number"),
      eps: need(path, adam, "eps", "number"),
      weight_decay: need(path, adam, "weight_decay", "number"),
      steps: need(path, adam, "steps", "number"),
    },
  };
  if (config.gelu !== "tanh") throw new FormatError(`${path}: gelu ${JSON.stringify(config.gelu)} is not supported (only "tanh")`);
  for (const name of ["input.idx", "input.targets", "out.logits", "out.loss"]) {
    if (!tensors.has(name)) throw new FormatError(`${path}: missing tensor "${name}"`);
  }
  return { path, config, tensors, metadata };
}

export function gptConfigOf(c: FixtureConfig): GPTConfig {
  return {
    vocabSize: c.vocab_size,
    blockSize: c.block_size,
    nEmbd: c.n_embd,
    nHead: c.n_head,
    nLayer: c.n_layer,
    lnEps: c.ln_eps,
    tiedLmHead: c.tied_lm_head,
  };
}
