// `troupe verify DIR`: reproduce the PyTorch reference that a Hugging Face model directory or a
// PEFT adapter directory ships (reference.safetensors; ../shared/fixtures/README.md) through
// troupe's loaders and kernels. A model directory: logits, loss, every gradient, the AdamW
// trajectory when present, and `bf16_logits` when reference.bf16.safetensors is there (the
// weights of model.bf16.safetensors, or ours rounded to BF16, computed in f32). An adapter
// directory: its base (base_model_name_or_path, relative to the directory, or `base`), the
// adapter on it with the base frozen: logits, loss, the adapter's gradients and trajectory.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { noGrad, toBF16, toF32 } from "../../kernels/mod.js";
import type { Architecture, CausalLM } from "../arch/mod.js";
import { ModelFileError } from "../errors.js";
import { HF_CONFIG, loadHfModel, readHfConfig } from "../hf/read.js";
import { PEFT_CONFIG, adapterParameters, baseParameters, loadPeftAdapter } from "../lora/mod.js";
import { type ComparisonReport, compareTensors } from "./compare.js";
import { REFERENCE_BF16_FILE, REFERENCE_FILE, readReference, reproduce } from "./reference.js";

/** verify's tolerances (the kernels' verify plus bf16_logits, computed in f32 like logits). */
export const dirVerifyTolerances: Readonly<Record<string, number>> = {
  logits: 1e-4,
  loss: 1e-4,
  grads: 1e-4,
  train_losses: 1e-4,
  after_params: 1e-5,
  bf16_logits: 1e-4,
};

export interface DirVerifyReport extends ComparisonReport {
  readonly kind: "hf-model" | "peft-adapter";
  readonly dir: string;
  readonly arch: string;
  readonly config: Record<string, unknown>;
  /** The weight dtypes read. */
  readonly dtypes: string[];
  /** Adapter directories: the base used, the adapter's settings, and that the base got no gradient. */
  readonly base?: string;
  readonly adapter?: { readonly rank: number; readonly alpha: number; readonly dora: boolean; readonly layers: number; readonly tensors: number };
  readonly base_frozen?: boolean;
}

function peftName(arch: Architecture, param: string): string {
  const m = /^(.*)\.(lora_A|lora_B|lora_magnitude)$/.exec(param)!;
  return `base_model.model.${arch.hfModule(m[1]!)}.${m[2] === "lora_magnitude" ? "lora_magnitude_vector" : m[2]}.weight`;
}

function bf16Comparison(model: CausalLM, dir: string) {
  const refFile = join(dir, REFERENCE_BF16_FILE);
  if (!existsSync(refFile)) return [];
  const ref = readReference(refFile, ["input.idx", "out.logits"]);
  let m: CausalLM;
  if (existsSync(join(dir, "model.bf16.safetensors"))) m = loadHfModel(dir, { weights: "model.bf16.safetensors" }).model;
  else {
    m = model;
    noGrad(() => {
      for (const [, p] of m.namedParameters()) p.f32().set(toF32(toBF16(p)).f32());
    });
  }
  const logits = noGrad(() => m.forward(ref.need("input.idx")));
  return [{ group: "bf16_logits", name: `${REFERENCE_BF16_FILE}:out.logits`, actual: logits.f32(), expected: ref.need("out.logits").f32() }];
}

/** Verifies a Hugging Face model directory (config.json + weights + reference.safetensors). */
export function verifyModelDir(dir: string): DirVerifyReport {
  const { model, arch, dtypes } = loadHfModel(dir);
  const { json } = readHfConfig(dir);
  const ref = readReference(join(dir, REFERENCE_FILE));
  const params = model.namedParameters();
  const items = reproduce(model, ref, params, (n) => arch.hfTensor(n));
  // the bf16 check runs on fresh weights (the AdamW steps above changed these)
  const fresh = loadHfModel(dir).model;
  items.push(...bf16Comparison(fresh, dir));
  return { kind: "hf-model", dir, arch: arch.name, config: json, dtypes, ...compareTensors(items, dirVerifyTolerances, ref.file) };
}

/** Verifies a PEFT adapter directory on its base (adapter_config.json's base, or `base`). */
export function verifyAdapterDir(dir: string, options: { base?: string } = {}): DirVerifyReport {
  const cfgFile = join(dir, PEFT_CONFIG);
  const raw = readJson(cfgFile);
  const named = typeof raw.base_model_name_or_path === "string" ? resolve(dir, raw.base_model_name_or_path) : null;
  const baseDir = options.base ? resolve(options.base) : named;
  if (!baseDir || !existsSync(join(baseDir, HF_CONFIG))) {
    throw new ModelFileError({ file: cfgFile }, `its base_model_name_or_path ${JSON.stringify(raw.base_model_name_or_path ?? null)} is not a local model directory${baseDir ? ` (${baseDir} has no ${HF_CONFIG})` : ""}; give the base with --base DIR`);
  }
  const { model, arch, dtypes } = loadHfModel(baseDir);
  const { json } = readHfConfig(baseDir);
  const applied = loadPeftAdapter(model, dir);
  const ref = readReference(join(dir, REFERENCE_FILE));
  const lora = adapterParameters(model);
  const items = reproduce(model, ref, lora, (n) => ({ name: peftName(arch, n), transpose: false }));
  const baseFrozen = baseParameters(model).every(([, p]) => p.grad === null && !p.requiresGrad);
  const c = compareTensors(items, dirVerifyTolerances, ref.file);
  return {
    kind: "peft-adapter", dir, arch: arch.name, config: json, dtypes, base: baseDir,
    adapter: { rank: applied.config.rank, alpha: applied.adapter.raw.lora_alpha as number, dora: applied.config.dora, layers: applied.targets.length, tensors: lora.length },
    base_frozen: baseFrozen,
    ...c,
    ok: c.ok && baseFrozen,
  };
}

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ModelFileError({ file }, "not found: an adapter directory has adapter_config.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new ModelFileError({ file }, `is not JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Verifies a model directory (config.json) or an adapter directory (adapter_config.json). */
export function verifyDir(dir: string, options: { base?: string } = {}): DirVerifyReport {
  if (existsSync(join(dir, PEFT_CONFIG))) return verifyAdapterDir(dir, options);
  if (existsSync(join(dir, HF_CONFIG))) return verifyModelDir(dir);
  throw new ModelFileError({ file: dir }, `is neither a model directory (${HF_CONFIG}) nor an adapter directory (${PEFT_CONFIG})`);
}
