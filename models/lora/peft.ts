// PEFT adapters in and out: a directory with adapter_config.json and adapter_model.safetensors,
// tensors named base_model.model.<Hugging Face module>.lora_A.weight (r, in), .lora_B.weight
// (out, r) and, for DoRA, .lora_magnitude_vector.weight (out) (older PEFT: no ".weight"; an
// adapter-name infix ".default" is accepted). The module paths map to troupe's through the
// architecture (identity for llama; GPT-2's transformer.h.{i}.attn.c_attn is troupe's h.{i}.qkv,
// and its adapter tensors are not transposed even though the base Conv1D weight is).
// target_modules follows PEFT's rule: a list matches a module whose name equals an entry or ends
// with "." + entry; a string is a regular expression over the whole name.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Linear, type Tensor, formatShape, openSafetensors, writeSafetensorsFile, zeros } from "../../kernels/mod.js";
import { type CausalLM, architectureOf } from "../arch/mod.js";
import { ModelFileError, isModelsError } from "../errors.js";
import { type AppliedAdapter, adapterOf, applyLora } from "./apply.js";
import type { LoraConfig } from "./config.js";
import { DoraLinear, LoraLinear } from "./layers.js";

const linearLike = (m: unknown): boolean => m instanceof Linear || m instanceof LoraLinear || m instanceof DoraLinear;

export const PEFT_CONFIG = "adapter_config.json";
export const PEFT_WEIGHTS = "adapter_model.safetensors";
const PREFIX = "base_model.model.";

export interface PeftAdapter {
  readonly dir: string;
  /** troupe's adapter settings, the wrapped layers as troupe module paths. */
  readonly config: LoraConfig & { readonly layers: string[] };
  /** troupe parameter name (h.0.qkv.lora_A, ...) → tensor. */
  readonly tensors: Map<string, Tensor>;
  /** adapter_config.json as read. */
  readonly raw: Record<string, unknown>;
  /** base_model_name_or_path, when set. */
  readonly baseModel: string | null;
}

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ModelFileError({ file }, "not found: a PEFT adapter directory has adapter_config.json and adapter_model.safetensors");
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ModelFileError({ file }, `is not a JSON object (${(err as Error).message})`, { cause: err });
  }
}

/** Is `dir` a PEFT adapter directory? */
export function isPeftDir(dir: string): boolean {
  return existsSync(join(dir, PEFT_CONFIG));
}

/** PEFT's check_target_module_exists for one module name. */
export function peftTargets(targetModules: unknown, name: string): boolean {
  if (typeof targetModules === "string") return new RegExp(`^(?:${targetModules})$`).test(name);
  if (Array.isArray(targetModules)) return targetModules.some((t) => typeof t === "string" && (name === t || name.endsWith(`.${t}`)));
  return false;
}

/** module path → kind → tensor name, from PEFT tensor names. */
function splitName(name: string): { module: string; kind: "lora_A" | "lora_B" | "lora_magnitude" } | null {
  if (!name.startsWith(PREFIX)) return null;
  const m = /^(.*)\.(lora_A|lora_B|lora_magnitude_vector)(?:\.default)?(?:\.weight)?$/.exec(name.slice(PREFIX.length));
  if (!m) return null;
  return { module: m[1]!, kind: m[2] === "lora_magnitude_vector" ? "lora_magnitude" : (m[2] as "lora_A" | "lora_B") };
}

/** Reads a PEFT adapter for `model` (the base it will sit on): config, tensors, checked shapes. */
export function readPeftAdapter(model: CausalLM, dir: string): PeftAdapter {
  const cfgFile = join(dir, PEFT_CONFIG);
  const raw = readJson(cfgFile);
  const fail = (msg: string): never => {
    throw new ModelFileError({ file: cfgFile }, msg);
  };
  if (raw.peft_type !== "LORA") fail(`peft_type is ${JSON.stringify(raw.peft_type)}; troupe reads LORA adapters (with use_dora for DoRA)`);
  const r = raw.r;
  const alpha = raw.lora_alpha ?? r;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 1) fail(`"r" should be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== "number" || !(alpha > 0)) fail(`"lora_alpha" should be a positive number, got ${JSON.stringify(alpha)}`);
  const dropout = (raw.lora_dropout ?? 0) as number;
  if (typeof dropout !== "number" || !(dropout >= 0 && dropout < 1)) fail(`"lora_dropout" should be a number in [0, 1), got ${JSON.stringify(raw.lora_dropout)}`);
  if ((raw.bias ?? "none") !== "none") fail(`"bias" is ${JSON.stringify(raw.bias)}; troupe supports "none" (no trained biases)`);
  for (const k of ["rank_pattern", "alpha_pattern"]) if (raw[k] && Object.keys(raw[k] as object).length > 0) fail(`"${k}" (per-module ranks) is not supported`);
  if (Array.isArray(raw.modules_to_save) && raw.modules_to_save.length > 0) fail(`"modules_to_save" (fully trained extra modules) is not supported`);
  const layersToTransform = raw.layers_to_transform === undefined || raw.layers_to_transform === null ? null
    : typeof raw.layers_to_transform === "number" ? [raw.layers_to_transform] : (raw.layers_to_transform as number[]);
  const rslora = raw.use_rslora === true;
  const dora = raw.use_dora === true;
  // rsLoRA scales by alpha/sqrt(r); troupe's scale is alpha/r, so the same update has alpha' = alpha·sqrt(r)
  const troupeAlpha = rslora ? (alpha as number) * Math.sqrt(r as number) : (alpha as number);

  const arch = architectureOf(model);
  const linears = new Map(model.namedModules().filter(([, m]) => linearLike(m)));
  const wFile = join(dir, PEFT_WEIGHTS);
  if (!existsSync(wFile)) throw new ModelFileError({ file: wFile }, existsSync(join(dir, "adapter_model.bin")) ? "not found; the directory has adapter_model.bin (a PyTorch pickle): save it as safetensors" : "not found");
  let file;
  try {
    file = openSafetensors(wFile);
  } catch (err) {
    throw new ModelFileError({ file: wFile }, (err as Error).message.replace(`${wFile}: `, ""), { cause: err });
  }
  try {
    const tensors = new Map<string, Tensor>();
    const byModule = new Map<string, Set<string>>();
    for (const [name, entry] of file.entries) {
      const s = splitName(name);
      if (!s) throw new ModelFileError({ file: wFile, tensor: name }, `is not a LoRA tensor (expected ${PREFIX}<module>.lora_A.weight, .lora_B.weight or .lora_magnitude_vector.weight)`);
      const path = arch.moduleFromHf(s.module);
      const layer = path === null ? undefined : linears.get(path);
      if (path === null || !layer) throw new ModelFileError({ file: wFile, tensor: name }, `adapts module "${s.module}", which ${arch.name} with this config has no linear layer for`);
      const lin = ((layer as { base?: Linear }).base ?? layer) as Linear;
      const want = s.kind === "lora_A" ? [r as number, lin.inFeatures] : s.kind === "lora_B" ? [lin.outFeatures, r as number] : [lin.outFeatures];
      if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
        throw new ModelFileError({ file: wFile, tensor: name }, `has shape ${formatShape(entry.shape)}; with r=${r} on "${s.module}" (${lin.inFeatures} → ${lin.outFeatures}) it should be ${formatShape(want)}`);
      }
      if (entry.end > file.size) throw new ModelFileError({ file: wFile, tensor: name }, `needs bytes [${entry.begin}, ${entry.end}) of the file, which has ${file.size} (truncated)`);
      const t = zeros(want);
      file.readInto(name, t.f32());
      tensors.set(`${path}.${s.kind}`, t);
      if (!byModule.has(path)) byModule.set(path, new Set());
      byModule.get(path)!.add(s.kind);
    }
    // every module target_modules selects must be in the file, with all its tensors
    const layerOf = (p: string) => /(?:^|\.)(?:layers|h)\.(\d+)\./.exec(`${arch.hfModule(p)}.`)?.[1];
    const selected = [...linears.keys()].filter((p) => {
      const hf = arch.hfModule(p);
      if (!peftTargets(raw.target_modules, hf)) return false;
      return layersToTransform === null || layersToTransform.includes(Number(layerOf(p)));
    });
    if (selected.length === 0) fail(`target_modules ${JSON.stringify(raw.target_modules)} selects no linear layer of this ${arch.name} model`);
    const need = dora ? ["lora_A", "lora_B", "lora_magnitude"] : ["lora_A", "lora_B"];
    for (const p of selected) {
      for (const k of need) {
        if (!byModule.get(p)?.has(k)) {
          const peftName = `${PREFIX}${arch.hfModule(p)}.${k === "lora_magnitude" ? "lora_magnitude_vector" : k}.weight`;
          throw new ModelFileError({ file: wFile, tensor: peftName }, `is missing (target_modules ${JSON.stringify(raw.target_modules)} selects "${arch.hfModule(p)}"${dora ? ", use_dora needs a magnitude vector" : ""})`);
        }
      }
    }
    for (const p of byModule.keys()) {
      if (!selected.includes(p)) throw new ModelFileError({ file: wFile, tensor: `${PREFIX}${arch.hfModule(p)}.lora_A.weight` }, `adapts "${arch.hfModule(p)}", which target_modules ${JSON.stringify(raw.target_modules)} does not select`);
      if (!dora && byModule.get(p)!.has("lora_magnitude")) throw new ModelFileError({ file: wFile, tensor: `${PREFIX}${arch.hfModule(p)}.lora_magnitude_vector.weight` }, "is a DoRA magnitude, but adapter_config.json does not set use_dora");
    }
    const config = { rank: r as number, alpha: troupeAlpha, dropout, targets: selected, dora, layers: selected };
    const base = typeof raw.base_model_name_or_path === "string" ? raw.base_model_name_or_path : null;
    return { dir, config, tensors, raw, baseModel: base };
  } catch (err) {
    if (isModelsError(err)) throw err;
    throw new ModelFileError({ file: wFile }, (err as Error).message, { cause: err });
  } finally {
    file.close();
  }
}

/** Reads a PEFT adapter and puts it on `model` (which must not carry one): base frozen. */
export function loadPeftAdapter(model: CausalLM, dir: string): AppliedAdapter & { readonly adapter: PeftAdapter } {
  const adapter = readPeftAdapter(model, dir);
  if (adapterOf(model)) throw new ModelFileError({ file: join(dir, PEFT_CONFIG) }, "cannot load: the model already carries an adapter (fuse it first)");
  const applied = applyLora(model, adapter.config);
  model.loadStateDict(adapter.tensors, { strict: false });
  return { ...applied, adapter };
}

export interface SavePeftOptions {
  /** base_model_name_or_path (the base's directory or Hub id). */
  readonly baseModel?: string | null;
}

/** Writes the adapter on `model` as a PEFT directory; returns the files written. */
export function savePeftAdapter(model: CausalLM, dir: string, options: SavePeftOptions = {}): string[] {
  const a = adapterOf(model);
  if (!a) throw new ModelFileError({ file: join(dir, PEFT_CONFIG) }, "the model has no adapter to save");
  const arch = architectureOf(model);
  const hfPaths = a.targets.map((p) => arch.hfModule(p));
  // target_modules: the bare layer names when they select exactly the wrapped layers, else full paths
  const all = model.namedModules().filter(([, m]) => linearLike(m)).map(([p]) => arch.hfModule(p));
  const names = [...new Set(hfPaths.map((p) => p.slice(p.lastIndexOf(".") + 1)))].sort();
  const exact = all.filter((p) => peftTargets(names, p));
  const targetModules = exact.length === hfPaths.length && exact.every((p) => hfPaths.includes(p)) ? names : [...hfPaths];
  const params = new Map(model.namedParameters());
  const tensors = a.targets.flatMap((p, i) => (["lora_A", "lora_B", ...(a.config.dora ? ["lora_magnitude"] : [])] as const).map((k) => {
    const t = params.get(`${p}.${k}`)!;
    const name = `${PREFIX}${hfPaths[i]}.${k === "lora_magnitude" ? "lora_magnitude_vector" : k}.weight`;
    return { name, dtype: "F32" as const, shape: [...t.shape], bytes: () => new Uint8Array(t.f32().buffer, t.f32().byteOffset, t.size * 4) };
  }));
  mkdirSync(dir, { recursive: true });
  writeSafetensorsFile(join(dir, PEFT_WEIGHTS), tensors, { format: "pt" });
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: options.baseModel ?? null,
    r: a.config.rank,
    lora_alpha: a.config.alpha,
    lora_dropout: a.config.dropout,
    target_modules: targetModules,
    bias: "none",
    fan_in_fan_out: arch.peftFanInFanOut,
    use_dora: a.config.dora,
    use_rslora: false,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    init_lora_weights: true,
    inference_mode: true,
  };
  const tmp = join(dir, `${PEFT_CONFIG}.tmp-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(tmp, join(dir, PEFT_CONFIG));
  return [PEFT_WEIGHTS, PEFT_CONFIG];
}
