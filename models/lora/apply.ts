// Putting adapters on a model of any architecture, finding them again, and fusing them into the base.
import { type CausalLM, architectureOf } from "../arch/mod.js";
import { Linear, type Module, type Tensor, createRng, noGrad } from "../../kernels/mod.js";
import { AdapterError, ModelConfigError } from "../errors.js";
import { type LoraConfig, matchesAnyTarget, resolveLoraConfig } from "./config.js";
import { DoraLinear, LoraLinear, isAdapterParam } from "./layers.js";

export interface AppliedAdapter {
  readonly config: LoraConfig;
  /** Paths of the wrapped layers, in model order ("h.0.qkv", "h.0.proj", ...). */
  readonly targets: string[];
}

export interface ApplyLoraOptions {
  /** Seed of A's initialization (default 0). Dropout seeds come from model.dropoutRng. */
  readonly seed?: number;
  /** Freeze every base parameter (default true): only the adapter trains. */
  readonly freezeBase?: boolean;
}

function adapterLayers(model: Module): [string, LoraLinear | DoraLinear][] {
  return model.namedModules().filter((e): e is [string, LoraLinear | DoraLinear] => e[1] instanceof LoraLinear || e[1] instanceof DoraLinear);
}

/**
 * Wraps every Linear whose path matches `config.targets` with a LoRA (or DoRA) layer. The
 * base is frozen first, so only adapter tensors get gradients. The model starts out computing
 * exactly what it did (B = 0).
 */
export function applyLora(model: CausalLM, config: Partial<LoraConfig> & { rank: number }, options: ApplyLoraOptions = {}): AppliedAdapter {
  const cfg = resolveLoraConfig({ ...config, targets: config.targets ?? architectureOf(model).defaultLoraTargets });
  if (adapterLayers(model).length > 0) throw new AdapterError("this model already has adapters; merge them (mergeAdapters) before adding new ones");
  const linears = model.namedModules().filter(([path, m]) => m instanceof Linear && matchesAnyTarget(path, cfg.targets));
  if (linears.length === 0) {
    const names = [...new Set(model.namedModules().filter(([, m]) => m instanceof Linear).map(([p]) => p.split(".").pop()))];
    throw new ModelConfigError("lora.targets", `no Linear layer matches ${JSON.stringify(cfg.targets)} (layers here: ${names.join(", ")})`);
  }
  if (options.freezeBase ?? true) model.freeze();
  const init = createRng(options.seed ?? 0);
  const targets: string[] = [];
  for (const [path, m] of linears) {
    const wrapped = cfg.dora ? new DoraLinear(m as Linear, cfg, init, model.dropoutRng) : new LoraLinear(m as Linear, cfg, init, model.dropoutRng);
    wrapped.train(model.training);
    model.replaceModule(path, wrapped);
    targets.push(path);
  }
  return { config: cfg, targets };
}

/** The adapter on a model, or null when it has none. */
export function adapterOf(model: Module): AppliedAdapter | null {
  const layers = adapterLayers(model);
  if (layers.length === 0) return null;
  return { config: layers[0]![1].config, targets: layers.map(([p]) => p) };
}

/** The adapter's tensors by name (lora_A, lora_B, lora_magnitude of every wrapped layer). */
export function adapterParameters(model: Module): [string, Tensor][] {
  return model.namedParameters().filter(([n]) => isAdapterParam(n));
}

/** The base's tensors by name (everything that is not an adapter tensor). */
export function baseParameters(model: Module): [string, Tensor][] {
  return model.namedParameters().filter(([n]) => !isAdapterParam(n));
}

/**
 * Fuses every adapter into its base weight (W ← W + s·B·A, or DoRA's m·V/‖V‖) and puts the
 * plain Linear back, so the model has its original parameter names and runs at base cost.
 * Returns the paths merged. Trainability of the base is left as it was.
 */
export function mergeAdapters(model: Module): string[] {
  const layers = adapterLayers(model);
  for (const [path, layer] of layers) {
    const w = layer.mergedWeight();
    noGrad(() => layer.base.weight.f32().set(w.f32()));
    model.replaceModule(path, layer.base);
  }
  return layers.map(([p]) => p);
}
