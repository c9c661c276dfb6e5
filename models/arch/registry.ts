// The architecture registry, keyed by config.json's model_type. Everything that builds, loads
// or saves a model goes through here; nothing above models/ branches on an architecture's name.
import { createRng } from "../../kernels/mod.js";
import { UnknownArchitectureError } from "../errors.js";
import { gpt2 } from "./gpt2.js";
import { llama } from "./llama.js";
import type { Architecture, CausalLM } from "./types.js";

const registry = new Map<string, Architecture>([
  [gpt2.name, gpt2 as Architecture],
  [llama.name, llama as Architecture],
]);

/** The registered model_types. */
export function architectureNames(): string[] {
  return [...registry.keys()];
}

/** The architecture for a model_type; `where` (a file) goes into the error. */
export function architecture(name: unknown, where = "the model"): Architecture {
  const a = typeof name === "string" ? registry.get(name) : undefined;
  if (!a) throw new UnknownArchitectureError(String(name), architectureNames(), where);
  return a;
}

/** The architecture of a live model. */
export function architectureOf(model: CausalLM): Architecture {
  return architecture(model.arch);
}

/** A fresh model of `arch` with a config in troupe's keys (validated), weights drawn from `seed`. */
export function createModel(arch: string, config: unknown, seed = 0): CausalLM {
  const a = architecture(arch);
  return a.create(a.resolve(config), createRng(seed));
}

/** The resolved config of a live model (JSON-safe). */
export function configOf(model: CausalLM): Record<string, unknown> {
  return architectureOf(model).configOf(model) as Record<string, unknown>;
}

/** The config digest adapters record for their base. */
export function modelDigest(model: CausalLM): string {
  const a = architectureOf(model);
  return a.digest(a.configOf(model));
}
