// An architecture, as the registry holds it: how to validate its config, build a network, and
// map it to and from a Hugging Face model directory (config.json keys, tensor names and
// layouts, PEFT module paths). The network itself implements CausalLM, the one interface the
// layers above use (the AGP heads, LoRA, the trainer, the teacher, generation, the KV cache).
// Legend: C channels, L layers.
import type { Decoder, DecoderDims, Rng } from "../../kernels/mod.js";

/** A decoder-only language model of any registered architecture. */
export type CausalLM = Decoder;

/** Where a troupe parameter lives in a Hugging Face checkpoint. */
export interface HfTensorName {
  readonly name: string;
  /** Stored transposed (GPT-2's Conv1D keeps weights as (in, out)). */
  readonly transpose: boolean;
}

export interface Architecture<C = unknown> {
  /** The registry key: config.json's model_type ("gpt2", "llama"). */
  readonly name: string;
  /** config.json's architectures[0] when troupe writes a directory. */
  readonly hfClass: string;
  /** Validates troupe's own config object (from a checkpoint or a caller) and fills defaults. */
  resolve(raw: unknown, key?: string): C;
  create(config: C, rng: Rng): CausalLM;
  /** The resolved config of a live model of this architecture. */
  configOf(model: CausalLM): C;
  dims(config: C): DecoderDims;
  /** A stable digest of the config (adapters record their base's). */
  digest(config: C): string;
  /** config.json → config; problems name `file` and the key. */
  fromHf(json: Record<string, unknown>, file: string): C;
  /** config → config.json. */
  toHf(config: C): Record<string, unknown>;
  /** The Hugging Face tensor of a troupe parameter. */
  hfTensor(param: string): HfTensorName;
  /** Other spellings a file may use for a tensor name (GPT-2 checkpoints without "transformer."). */
  hfAliases(name: string): readonly string[];
  /** Tensors of Hugging Face files that are not parameters (buffers) and are skipped on read. */
  isHfBuffer(name: string): boolean;
  /** A troupe module path → the Hugging Face module path (PEFT names adapters by it). */
  hfModule(path: string): string;
  /** The inverse of hfModule, or null for a path this architecture does not have. */
  moduleFromHf(hfPath: string): string | null;
  /** The layer names LoRA may wrap ("qkv", "proj" / "q_proj", ...). */
  readonly linearNames: readonly string[];
  /** What `--lora r` wraps without targets (PEFT's defaults for the model type). */
  readonly defaultLoraTargets: readonly string[];
  /** A LoRA target pattern for layer `name` of block `block` only. */
  blockTarget(block: number, name: string): string;
  /** PEFT's fan_in_fan_out for this architecture's base layers (GPT-2's Conv1D: true). */
  readonly peftFanInFanOut: boolean;
}
