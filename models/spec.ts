// How to rebuild a model from a checkpoint: the architecture and its config, the adapter
// settings (if any) and the tokenizer, stored as `config.model` in every checkpoint manifest and
// in the metadata of its model.safetensors (so the file alone is enough to load the model).
// Checkpoints written before architectures existed hold `{ gpt: <GPT config> }`: they load as gpt2.
// A tokenizer other than bytes is named by the SHA-256 of its tokenizer.json, whose bytes travel
// as a checkpoint file beside model.safetensors (for a lone model.safetensors or a Hugging Face
// directory: the tokenizer.json next to it), checked against that digest. A live model's
// tokenizer is attached to it (attachTokenizer / tokenizerOf; bytes when none).
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type Tokenizer, type TokenizerSpec, byteTokenizer, tokenizerFromFiles, tokenizerId } from "../data/mod.js";
import { basename, dirname, join } from "node:path";
import { createRng, parseSafetensors } from "../kernels/mod.js";
import { type CausalLM, architecture, architectureOf } from "./arch/mod.js";
import type { Checkpoint } from "./checkpoint/mod.js";
import { MANIFEST_FILE, MODEL_FILE } from "./checkpoint/mod.js";
import { CheckpointFormatError, CheckpointNotFoundError, ModelConfigError, isModelsError } from "./errors.js";
import { isHfModelDir, loadHfModel } from "./hf/read.js";
import { attachTokenizer, tokenizerOf } from "./tokenizer.js";
import { type LoraConfig, adapterOf, applyLora, resolveLoraConfig } from "./lora/mod.js";

export { attachTokenizer, tokenizerOf } from "./tokenizer.js";

export interface ModelSpec {
  /** The architecture's registry key (Hugging Face model_type): "gpt2", "llama". */
  readonly arch: string;
  /** The architecture's resolved config (troupe's keys). */
  readonly config: Record<string, unknown>;
  /** The adapter on the model, with the exact layers it wraps; null for a plain model. */
  readonly lora: (LoraConfig & { readonly layers: string[] }) | null;
  readonly tokenizer: TokenizerSpec;
}

/** The spec of a live model. */
export function specOf(model: CausalLM): ModelSpec {
  const a = adapterOf(model);
  const arch = architectureOf(model);
  return {
    arch: arch.name,
    config: { ...(arch.configOf(model) as Record<string, unknown>) },
    lora: a ? { ...a.config, targets: [...a.config.targets], layers: a.targets } : null,
    tokenizer: tokenizerOf(model).spec,
  };
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkTokenizerSpec(t: unknown): string | null {
  if (t === "bytes") return null;
  const o = t as Record<string, unknown> | null;
  if (!o || typeof o !== "object" || o.kind !== "hf") return `tokenizer ${JSON.stringify(t)} is not supported ("bytes" or {kind: "hf", sha256, …})`;
  if (typeof o.sha256 !== "string" || !HEX64.test(o.sha256)) return "tokenizer.sha256 must be 64 hex digits";
  if (o.configSha256 !== null && (typeof o.configSha256 !== "string" || !HEX64.test(o.configSha256))) return "tokenizer.configSha256 must be null or 64 hex digits";
  if (!Number.isSafeInteger(o.vocabSize) || !Number.isSafeInteger(o.eot)) return "tokenizer.vocabSize and tokenizer.eot must be integers";
  return null;
}

/**
 * The tokenizer a spec names, from the files that came with the model, each checked against
 * the spec's digest (a missing or changed tokenizer.json is a CheckpointFormatError).
 */
export function tokenizerForSpec(spec: TokenizerSpec, files: ReadonlyMap<string, Uint8Array>, where: string): Tokenizer {
  if (spec === "bytes") return byteTokenizer();
  const at = { checkpoint: where, file: TOKENIZER_FILE };
  const json = files.get(TOKENIZER_FILE);
  if (!json) throw new CheckpointFormatError(at, `is missing: the model spec names tokenizer ${tokenizerId(spec)}`);
  const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  if (digest(json) !== spec.sha256) throw new CheckpointFormatError(at, `has SHA-256 ${digest(json).slice(0, 16)}…, the model spec names ${spec.sha256.slice(0, 16)}… (a different tokenizer)`);
  const config = files.get(TOKENIZER_CONFIG_FILE);
  if (spec.configSha256 !== null && (!config || digest(config) !== spec.configSha256)) {
    throw new CheckpointFormatError({ checkpoint: where, file: TOKENIZER_CONFIG_FILE }, config ? "differs from the one the model was trained with" : "is missing");
  }
  const only = new Map([[TOKENIZER_FILE, json], ...(spec.configSha256 !== null && config ? [[TOKENIZER_CONFIG_FILE, config] as const] : [])]);
  return tokenizerFromFiles(only);
}

/** The spec of a fresh model of `arch` (config in troupe's keys, validated). */
export function freshSpec(arch: string, config: unknown): ModelSpec {
  const a = architecture(arch);
  return { arch: a.name, config: a.resolve(config) as Record<string, unknown>, lora: null, tokenizer: "bytes" };
}

/** The spec of checkpoints written before architectures existed: a GPT config under `gpt`. */
export interface LegacyModelSpec {
  readonly gpt: Record<string, unknown>;
  readonly lora: ModelSpec["lora"];
  readonly tokenizer: TokenizerSpec;
}

/** A model of this spec (random weights from `seed`; load a state dict next). Legacy { gpt } specs build a gpt2. */
export function buildModel(raw: ModelSpec | LegacyModelSpec, seed = 0): CausalLM {
  const spec: ModelSpec = "arch" in raw ? raw : { arch: "gpt2", config: raw.gpt, lora: raw.lora, tokenizer: raw.tokenizer };
  const a = architecture(spec.arch);
  const model = a.create(a.resolve(spec.config), createRng(seed));
  if (spec.lora) applyLora(model, { ...resolveLoraConfig(spec.lora), targets: spec.lora.layers });
  return model;
}

/** A spec from a manifest or a file: checked, legacy { gpt } specs read as gpt2. */
export function checkSpec(raw: unknown, where: string): ModelSpec {
  const s = raw as (Partial<ModelSpec> & { gpt?: unknown }) | null;
  if (!s || typeof s !== "object" || (!s.arch && !s.gpt)) {
    throw new CheckpointFormatError({ checkpoint: where }, "has no model spec (config.model with arch, config, lora, tokenizer)");
  }
  const bad = checkTokenizerSpec(s.tokenizer);
  if (bad) throw new CheckpointFormatError({ checkpoint: where }, bad);
  const spec: ModelSpec = s.arch
    ? { arch: s.arch, config: (s.config ?? {}) as Record<string, unknown>, lora: s.lora ?? null, tokenizer: s.tokenizer as TokenizerSpec }
    : { arch: "gpt2", config: s.gpt as Record<string, unknown>, lora: s.lora ?? null, tokenizer: s.tokenizer as TokenizerSpec };
  try {
    architecture(spec.arch, where).resolve(spec.config);
    if (spec.lora) resolveLoraConfig(spec.lora);
  } catch (err) {
    throw new CheckpointFormatError({ checkpoint: where }, `bad model spec: ${(err as Error).message}`, { cause: err });
  }
  return spec;
}

/** The model a checkpoint holds, with its weights loaded (strict). */
export function modelFromCheckpoint(ck: Checkpoint): { model: CausalLM; spec: ModelSpec } {
  const where = `${ck.ref.run}/${ck.ref.stage}/${ck.ref.kind}-${ck.ref.step}`;
  const spec = checkSpec((ck.manifest.config as { model?: unknown } | null)?.model, where);
  const model = buildModel(spec);
  model.loadStateDict(ck.model);
  attachTokenizer(model, tokenizerForSpec(spec.tokenizer, ck.files, where));
  return { model, spec };
}

/**
 * Loads a model from a path: a Hugging Face model directory (config.json), a checkpoint
 * directory (with manifest.json, verified), or a model.safetensors written by troupe (its
 * metadata carries the spec).
 */
export async function loadModelFile(path: string): Promise<{ model: CausalLM; spec: ModelSpec; source: string }> {
  let file = path;
  if (!path.endsWith(".safetensors") && isHfModelDir(path) && !(await import("node:fs")).existsSync(join(path, MANIFEST_FILE))) {
    const { model } = loadHfModel(path);
    return { model, spec: specOf(model), source: path };
  }
  if (!path.endsWith(".safetensors")) {
    const dir = await findCheckpointDir(path);
    if (dir.checkpoint) {
      const { model, spec } = modelFromCheckpoint(dir.checkpoint);
      return { model, spec, source: dir.source };
    }
    file = join(path, MODEL_FILE);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new CheckpointNotFoundError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a checkpoint directory or a model.safetensors`, { cause: err });
  }
  const where = basename(file) === MODEL_FILE ? dirname(file) : file;
  // a checkpoint directory: verify against its manifest first
  try {
    const { parseManifest, verifyFile } = await import("./checkpoint/mod.js");
    const manifest = parseManifest(await readFile(join(dirname(file), MANIFEST_FILE)), dirname(file));
    verifyFile(manifest, MODEL_FILE, bytes, dirname(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const parsed = parseSafetensors(bytes, file);
  const raw = parsed.metadata.troupe_config;
  if (!raw) throw new ModelConfigError("checkpoint", `${file} has no troupe model config in its metadata (was it written by troupe?)`);
  const spec = checkSpec((JSON.parse(raw) as { model?: unknown }).model, where);
  const model = buildModel(spec);
  model.loadStateDict(parsed.tensors);
  if (spec.tokenizer !== "bytes") {
    // a lone model.safetensors: its tokenizer files sit next to it
    const files = new Map<string, Uint8Array>();
    for (const name of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE]) {
      try {
        files.set(name, await readFile(join(dirname(file), name)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    attachTokenizer(model, tokenizerForSpec(spec.tokenizer, files, where));
  }
  return { model, spec, source: file };
}

/**
 * A directory given by a user: a checkpoint (has manifest.json; loaded by the caller), a
 * stage directory (<run>/checkpoints/<stage>: its newest good step checkpoint) or a run
 * directory (<run>: the newest good step checkpoint of its only stage, or of "train").
 */
export async function findCheckpointDir(path: string): Promise<{ checkpoint: Checkpoint | null; source: string }> {
  const { existsSync, readdirSync } = await import("node:fs");
  if (existsSync(join(path, MANIFEST_FILE))) return { checkpoint: null, source: path };
  let stageDir: string | null = null;
  if (existsSync(join(path, "checkpoints"))) {
    const stages = readdirSync(join(path, "checkpoints"));
    const stage = stages.length === 1 ? stages[0]! : stages.includes("train") ? "train" : null;
    if (!stage) throw new CheckpointNotFoundError(`${path} has several stages (${stages.join(", ")}); give ${join(path, "checkpoints", "<stage>")}`);
    stageDir = join(path, "checkpoints", stage);
  } else if (existsSync(path) && readdirSync(path).some((n) => /^step-\d{8,}$/.test(n))) {
    stageDir = path;
  }
  if (!stageDir) throw new CheckpointNotFoundError(`${path} is not a checkpoint, stage or run directory (no ${MANIFEST_FILE}, no step-* directories, no checkpoints/)`);
  const { localCheckpointStore } = await import("./checkpoint/mod.js");
  const stage = basename(stageDir);
  const run = basename(dirname(dirname(stageDir)));
  const store = localCheckpointStore(dirname(dirname(dirname(stageDir))));
  const good = await store.latestGood(run, stage);
  if (!good) throw new CheckpointNotFoundError(`no good checkpoint in ${stageDir}`);
  return { checkpoint: good.checkpoint, source: store.dirOf(good.checkpoint.ref) };
}

/** Same architecture and config, adapter layout and tokenizer (the weights may differ). */
export function sameSpec(a: ModelSpec, b: ModelSpec): boolean {
  const norm = (s: ModelSpec) => JSON.stringify({
    arch: s.arch,
    config: architecture(s.arch).resolve(s.config),
    lora: s.lora && { rank: s.lora.rank, alpha: s.lora.alpha, dropout: s.lora.dropout, dora: s.lora.dora, layers: s.lora.layers },
    tokenizer: tokenizerId(s.tokenizer),
  });
  return norm(a) === norm(b);
}
