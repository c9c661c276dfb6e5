// Adapter files: a safetensors file with only the adapter's tensors (lora_A, lora_B and, for
// DoRA, lora_magnitude of every wrapped layer) and metadata that says how to rebuild it and
// which base it belongs to. Loading refuses a base with another config or other weights.
//
//   __metadata__: magic "troupe-adapter", version "1", rank, alpha, dropout, dora,
//                 targets (JSON list of layer paths), base_config (JSON),
//                 base_config_digest, base_weights_digest (SHA-256 hex)
import { readFile, rename, writeFile } from "node:fs/promises";
import { type Tensor, isKernelError, parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import { AdapterError, isModelsError } from "../errors.js";
import { type CausalLM, architectureOf, modelDigest } from "../arch/mod.js";
import { weightsDigest } from "../gpt.js";
import { type AppliedAdapter, adapterOf, adapterParameters, applyLora } from "./apply.js";
import { isAdapterParam } from "./layers.js";

export const ADAPTER_MAGIC = "troupe-adapter";
export const ADAPTER_VERSION = 1;

/** Digest of the base weights a model's adapter sits on (adapter tensors excluded). */
export function baseWeightsDigest(model: CausalLM): string {
  return weightsDigest(model, (n) => !isAdapterParam(n));
}

/** The adapter of `model` as safetensors bytes. */
export function serializeAdapter(model: CausalLM): Uint8Array {
  const adapter = adapterOf(model);
  if (!adapter) throw new AdapterError("the model has no adapter to save (applyLora first)");
  const c = adapter.config;
  return serializeSafetensors(adapterParameters(model), {
    magic: ADAPTER_MAGIC,
    version: String(ADAPTER_VERSION),
    rank: String(c.rank),
    alpha: String(c.alpha),
    dropout: String(c.dropout),
    dora: String(c.dora),
    targets: JSON.stringify(adapter.targets),
    base_arch: architectureOf(model).name,
    base_config: JSON.stringify(architectureOf(model).configOf(model)),
    base_config_digest: modelDigest(model),
    base_weights_digest: baseWeightsDigest(model),
  });
}

/** Writes the adapter (temp file + rename, so a crash never leaves half a file). */
export async function saveAdapter(model: CausalLM, path: string): Promise<void> {
  const bytes = serializeAdapter(model);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export interface AdapterFile {
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly dora: boolean;
  readonly targets: string[];
  readonly baseConfigDigest: string;
  readonly baseWeightsDigest: string;
  readonly tensors: Map<string, Tensor>;
}

/** Parses and checks adapter bytes (magic, version, metadata). */
export function parseAdapter(bytes: Uint8Array, source = "<adapter>"): AdapterFile {
  let parsed;
  try {
    parsed = parseSafetensors(bytes, source);
  } catch (err) {
    throw new AdapterError(`${source}: not an adapter file: ${(err as Error).message}`, { cause: err });
  }
  const m = parsed.metadata;
  if (m.magic !== ADAPTER_MAGIC) {
    throw new AdapterError(`${source}: not a troupe adapter (magic ${JSON.stringify(m.magic ?? null)}, expected "${ADAPTER_MAGIC}"); a full checkpoint loads with loadCheckpoint, not loadAdapter`);
  }
  if (m.version !== String(ADAPTER_VERSION)) {
    throw new AdapterError(`${source}: adapter format version ${m.version}, this troupe reads version ${ADAPTER_VERSION}; re-save the adapter with this troupe version or load it with the version that wrote it`);
  }
  let targets: unknown;
  try {
    targets = JSON.parse(m.targets ?? "null");
  } catch {
    targets = null;
  }
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) throw new AdapterError(`${source}: metadata "targets" is not a list of layer paths`);
  const num = (k: string) => {
    const v = Number(m[k]);
    if (!Number.isFinite(v)) throw new AdapterError(`${source}: metadata "${k}" is not a number (${JSON.stringify(m[k] ?? null)})`);
    return v;
  };
  return {
    rank: num("rank"),
    alpha: num("alpha"),
    dropout: num("dropout"),
    dora: m.dora === "true",
    targets: targets as string[],
    baseConfigDigest: m.base_config_digest ?? "",
    baseWeightsDigest: m.base_weights_digest ?? "",
    tensors: parsed.tensors,
  };
}

export interface LoadAdapterOptions {
  /** Accept a base whose weights differ from the one the adapter was trained on (same config). */
  readonly allowOtherWeights?: boolean;
}

/**
 * Puts the adapter in `source` (a path or bytes) on `model`: checks that the model is its base,
 * wraps the same layers, and loads the tensors. The model must not carry an adapter yet.
 */
export async function loadAdapter(model: CausalLM, source: string | Uint8Array, options: LoadAdapterOptions = {}): Promise<AppliedAdapter> {
  const name = typeof source === "string" ? source : "<adapter bytes>";
  let bytes: Uint8Array;
  try {
    bytes = typeof source === "string" ? await readFile(source) : source;
  } catch (err) {
    throw new AdapterError(`cannot read adapter ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return attachAdapter(model, parseAdapter(bytes, name), name, options);
}

export function attachAdapter(model: CausalLM, file: AdapterFile, name: string, options: LoadAdapterOptions = {}): AppliedAdapter {
  if (file.baseConfigDigest !== modelDigest(model)) {
    throw new AdapterError(`${name} was trained on a base with another config (digest ${file.baseConfigDigest.slice(0, 12)}…, this model ${modelDigest(model).slice(0, 12)}…); load it onto its own base`);
  }
  if (adapterOf(model)) throw new AdapterError(`cannot load ${name}: the model already has an adapter`);
  const digest = baseWeightsDigest(model);
  if (!options.allowOtherWeights && file.baseWeightsDigest !== digest) {
    throw new AdapterError(`${name} was trained on other base weights (digest ${file.baseWeightsDigest.slice(0, 12)}…, this model ${digest.slice(0, 12)}…); load the base it was trained on`);
  }
  const want = file.targets.flatMap((p) => [`${p}.lora_A`, `${p}.lora_B`, ...(file.dora ? [`${p}.lora_magnitude`] : [])]);
  const missing = want.filter((n) => !file.tensors.has(n));
  const extra = [...file.tensors.keys()].filter((n) => !want.includes(n));
  if (missing.length || extra.length) throw new AdapterError(`${name}: tensors missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
  const have = new Set(model.namedModules().map(([p]) => p));
  const absent = file.targets.filter((p) => !have.has(p));
  if (absent.length) throw new AdapterError(`${name} wraps layers this model does not have: ${absent.join(", ")}`);
  let applied: AppliedAdapter;
  try {
    applied = applyLora(model, { rank: file.rank, alpha: file.alpha, dropout: file.dropout, dora: file.dora, targets: file.targets });
    model.loadStateDict(file.tensors, { strict: false });
  } catch (err) {
    if (isModelsError(err) || isKernelError(err)) throw new AdapterError(`${name} does not fit this model: ${(err as Error).message}`, { cause: err });
    throw err;
  }
  return applied;
}
