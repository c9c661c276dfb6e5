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
import { type ComparisonReport, compareRun } from "./compare.js";
import { REFERENCE_BF16_FILE, REFERENCE_FILE, readReference, reproduce } from "./reference.js";

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
  /** The AdamW steps the base took first, when the adapter reproduced only on the trained base. */
  readonly base_steps?: number;
  /** That fallback: the failed attempt on the named base, and why the trained base was tried. */
  readonly named_base?: BaseAttempt;
  readonly note?: string;
  /** The fallback tried and failed too. */
  readonly trained_base?: BaseAttempt;
}

function peftName(arch: Architecture, param: string): string {
  const m = /^(.*)\.(lora_A|lora_B|lora_magnitude)$/.exec(param)!;
  return `base_model.model.${arch.hfModule(m[1]!)}.${m[2] === "lora_magnitude" ? "lora_magnitude_vector" : m[2]}.weight`;
}

function bf16Comparison(model: CausalLM, dir: string): { actual: Float32Array; expected: Float32Array } | undefined {
  const refFile = join(dir, REFERENCE_BF16_FILE);
  if (!existsSync(refFile)) return undefined;
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
  return { actual: logits.f32(), expected: ref.need("out.logits").f32() };
}

/** Verifies a Hugging Face model directory (config.json + weights + reference.safetensors). */
export function verifyModelDir(dir: string): DirVerifyReport {
  const { model, arch, dtypes } = loadHfModel(dir);
  const { json } = readHfConfig(dir);
  const ref = readReference(join(dir, REFERENCE_FILE));
  const params = model.namedParameters();
  const run = reproduce(model, ref, params, (n) => arch.hfTensor(n));
  // the bf16 check runs on fresh weights (the AdamW steps above changed these)
  const fresh = loadHfModel(dir).model;
  return { kind: "hf-model", dir, arch: arch.name, config: json, dtypes, ...compareRun(run, ref.tensors, ref.file, bf16Comparison(fresh, dir)) };
}

/** How an adapter verified on one base, for the report of a fallback. */
export interface BaseAttempt {
  readonly base: string;
  readonly ok: boolean;
  readonly failed: string[];
  readonly max_abs_diff: ComparisonReport["max_abs_diff"];
}

/**
 * Verifies a PEFT adapter directory on its base (`base`, else adapter_config.json's
 * base_model_name_or_path). When the named base does not reproduce the reference and that base
 * directory's own reference.safetensors holds its AdamW trajectory (after.*), the adapter is
 * tried once more on the base after those steps (a reference made on the trained base, as the
 * shared hf/llama-lora is): ok only if it passes there, with `base` saying so and `named_base`
 * keeping the failed attempt. An explicit `base` gets no fallback.
 */
export function verifyAdapterDir(dir: string, options: { base?: string } = {}): DirVerifyReport {
  const cfgFile = join(dir, PEFT_CONFIG);
  const raw = readJson(cfgFile);
  const named = typeof raw.base_model_name_or_path === "string" ? resolve(dir, raw.base_model_name_or_path) : null;
  const baseDir = options.base ? resolve(options.base) : named;
  if (!baseDir || !existsSync(join(baseDir, HF_CONFIG))) {
    throw new ModelFileError({ file: cfgFile }, `its base_model_name_or_path ${JSON.stringify(raw.base_model_name_or_path ?? null)} is not a local model directory${baseDir ? ` (${baseDir} has no ${HF_CONFIG})` : ""}; give the base with --base DIR`);
  }
  const first = verifyAdapterOn(dir, baseDir, false);
  const baseRef = join(baseDir, REFERENCE_FILE);
  if (first.ok || options.base || !existsSync(baseRef) || readReference(baseRef, []).withPrefix("after.").length === 0) return first;
  const trained = verifyAdapterOn(dir, baseDir, true);
  const attempt = (r: DirVerifyReport): BaseAttempt => ({ base: r.base!, ok: r.ok, failed: r.failed, max_abs_diff: r.max_abs_diff });
  if (!trained.ok) return { ...first, trained_base: attempt(trained) };
  return {
    ...trained,
    named_base: attempt(first),
    note: `the reference does not reproduce on the base adapter_config.json names (${baseDir}: ${first.failed.join(", ")} over their bounds); ` +
      `it does on that base after the ${trained.base_steps} AdamW steps of its ${REFERENCE_FILE} (its after.* tensors), so it was made on that trained base`,
  };
}

/** The adapter on `baseDir`'s weights, or (trainedBase) on the after.* weights of its reference. */
function verifyAdapterOn(dir: string, baseDir: string, trainedBase: boolean): DirVerifyReport {
  const { model, arch, dtypes } = loadHfModel(baseDir);
  const { json } = readHfConfig(baseDir);
  let steps = 0;
  if (trainedBase) {
    const baseRef = readReference(join(baseDir, REFERENCE_FILE), ["train.losses"]);
    steps = baseRef.need("train.losses").size;
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) {
        const t = arch.hfTensor(n);
        const v = baseRef.need(`after.${t.name}`).f32();
        if (v.length !== p.size) throw new ModelFileError({ file: baseRef.file, tensor: `after.${t.name}` }, `has ${v.length} values, the base's parameter has ${p.size}`);
        p.f32().set(t.transpose ? transposed(v, p.shape[1]!, p.shape[0]!) : v);
      }
    });
  }
  const applied = loadPeftAdapter(model, dir);
  const ref = readReference(join(dir, REFERENCE_FILE));
  const lora = adapterParameters(model);
  const run = reproduce(model, ref, lora, (n) => ({ name: peftName(arch, n), transpose: false }));
  const baseFrozen = baseParameters(model).every(([, p]) => p.grad === null && !p.requiresGrad);
  const c = compareRun(run, ref.tensors, ref.file);
  const base = trainedBase ? `${baseDir} after its ${REFERENCE_FILE}'s ${steps} AdamW steps` : baseDir;
  return {
    kind: "peft-adapter", dir, arch: arch.name, config: json, dtypes, base,
    ...(trainedBase ? { base_steps: steps } : {}),
    adapter: { rank: applied.config.rank, alpha: applied.adapter.raw.lora_alpha as number, dora: applied.config.dora, layers: applied.targets.length, tensors: lora.length },
    base_frozen: baseFrozen,
    ...c,
    ok: c.ok && baseFrozen,
  };
}

/** (rows, cols) row-major → (cols, rows). */
function transposed(v: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = v[i * cols + j]!;
  return out;
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
