// Loading a Hugging Face model directory: config.json (its model_type picks the architecture)
// and the weights in model.safetensors or the shards of model.safetensors.index.json, in F32,
// F16 or BF16 (widened to f32 on load). Tensors are read from disk straight into the model's
// parameters one at a time, so loading needs the model's memory plus one tensor, not two
// copies of the checkpoint. Every problem is a ModelFileError naming the file, the tensor and
// what was expected. A directory that ships tokenizer.json (and tokenizer_config.json, its chat
// template) gets that tokenizer attached to the model; without one the model keeps bytes.
// Legend: V vocab, C hidden.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type SafetensorsEntry, type SafetensorsFile, createRng, formatShape, isKernelError, noGrad, openSafetensors } from "../../kernels/mod.js";
import { type Architecture, type CausalLM, architecture } from "../arch/mod.js";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type Tokenizer, byteTokenizer, tokenizerFromJson } from "../../data/mod.js";
import { ModelFileError, isModelsError } from "../errors.js";
import { attachTokenizer } from "../tokenizer.js";

export const HF_CONFIG = "config.json";
export const HF_WEIGHTS = "model.safetensors";
export const HF_INDEX = "model.safetensors.index.json";

export interface HfModel {
  readonly model: CausalLM;
  readonly arch: Architecture;
  /** The architecture's resolved config (troupe's keys). */
  readonly config: unknown;
  readonly dir: string;
  /** The weight files read. */
  readonly files: string[];
  /** The dtypes found in them ("F32", "BF16", ...). */
  readonly dtypes: string[];
  /** The directory's tokenizer.json (+ tokenizer_config.json), attached to the model; bytes when it has none. */
  readonly tokenizer: Tokenizer;
}

export interface LoadHfOptions {
  /** Read this weights file of the directory instead of model.safetensors / the index (e.g. model.bf16.safetensors). */
  readonly weights?: string;
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ModelFileError({ file }, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ModelFileError({ file }, `is not a JSON object (${(err as Error).message})`, { cause: err });
  }
}

/**
 * What identifies a model directory's contents cheaply (no weights read): the SHA-256 of
 * config.json and of the weight and tokenizer files' names, sizes and modification times.
 */
export function hfFingerprint(dir: string): string {
  const h = createHash("sha256");
  h.update(readFileSync(join(dir, HF_CONFIG)));
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".safetensors") || n === HF_INDEX || n === TOKENIZER_FILE || n === TOKENIZER_CONFIG_FILE).sort()) {
    const st = statSync(join(dir, f));
    h.update(`${f}:${st.size}:${st.mtimeMs}`);
  }
  return h.digest("hex").slice(0, 16);
}

/** Is `dir` a Hugging Face model directory (has config.json)? */
export function isHfModelDir(dir: string): boolean {
  return existsSync(join(dir, HF_CONFIG));
}

/** config.json → { arch, config } without reading any weights. */
export function readHfConfig(dir: string): { arch: Architecture; config: unknown; json: Record<string, unknown> } {
  const file = join(dir, HF_CONFIG);
  if (!existsSync(file)) throw new ModelFileError({ file }, "not found: a Hugging Face model directory has a config.json");
  const json = readJson(file);
  const arch = architecture(json.model_type, file);
  return { arch, config: arch.fromHf(json, file), json };
}

/**
 * The tokenizer a model directory ships (tokenizer.json, with tokenizer_config.json when present),
 * or null when it has no tokenizer.json. One that troupe cannot read is a ModelFileError naming the file.
 */
export function readHfTokenizer(dir: string): Tokenizer | null {
  const file = join(dir, TOKENIZER_FILE);
  if (!existsSync(file)) return null;
  const configFile = join(dir, TOKENIZER_CONFIG_FILE);
  try {
    return tokenizerFromJson(readFileSync(file), existsSync(configFile) ? readFileSync(configFile) : null);
  } catch (err) {
    throw new ModelFileError({ file }, `cannot be used as the model's tokenizer: ${(err as Error).message}`, { cause: err });
  }
}

/** The weight files and which one holds each tensor. */
function weightFiles(dir: string, options: LoadHfOptions): { where: Map<string, string>; files: string[]; index: string | null } {
  if (options.weights) return { where: new Map(), files: [join(dir, options.weights)], index: null };
  const index = join(dir, HF_INDEX);
  if (existsSync(index)) {
    const json = readJson(index);
    const map = json.weight_map as Record<string, unknown> | undefined;
    if (!map || typeof map !== "object") throw new ModelFileError({ file: index }, `has no "weight_map" object (tensor name → shard file)`);
    const where = new Map<string, string>();
    for (const [name, f] of Object.entries(map)) {
      if (typeof f !== "string" || f.includes("/") || f.includes("\\")) throw new ModelFileError({ file: index, tensor: name }, `weight_map entry ${JSON.stringify(f)} is not a file name in the directory`);
      where.set(name, join(dir, f));
    }
    return { where, files: [...new Set(where.values())], index };
  }
  const single = join(dir, HF_WEIGHTS);
  if (existsSync(single)) return { where: new Map(), files: [single], index: null };
  const present = existsSync(dir) ? readdirSync(dir) : [];
  const bin = present.find((f) => f.endsWith(".bin") || f.endsWith(".pt"));
  throw new ModelFileError({ file: single }, bin
    ? `not found; ${dir} has ${bin} (PyTorch pickle), which troupe does not read: convert it to safetensors`
    : `not found (nor ${HF_INDEX}); the directory holds ${present.join(", ") || "nothing"}`);
}

/** Loads a Hugging Face model directory into a fresh troupe model of its architecture. */
export function loadHfModel(dir: string, options: LoadHfOptions = {}): HfModel {
  const { arch, config } = readHfConfig(dir);
  const model = arch.create(config, createRng(0));
  const { where, files, index } = weightFiles(dir, options);
  const opened = new Map<string, SafetensorsFile>();
  const open = (f: string): SafetensorsFile => {
    let h = opened.get(f);
    if (!h) {
      try {
        h = openSafetensors(f);
      } catch (err) {
        throw new ModelFileError({ file: f }, isKernelError(err) ? (err as Error).message.replace(`${f}: `, "") : String(err), { cause: err });
      }
      opened.set(f, h);
    }
    return h;
  };
  try {
    // every tensor of every file, by name (shards: the index says which file)
    const entries = new Map<string, { file: SafetensorsFile; entry: SafetensorsEntry }>();
    for (const f of files) {
      const h = open(f);
      for (const [name, entry] of h.entries) {
        if (where.size > 0 && where.get(name) !== f) continue;
        entries.set(name, { file: h, entry });
      }
    }
    const missingFrom = index ?? files[0]!;
    for (const [name, w] of where) if (!entries.has(name)) throw new ModelFileError({ file: w, tensor: name }, `is listed in ${HF_INDEX} but the shard does not hold it`);
    const used = new Set<string>();
    const dtypes = new Set<string>();
    noGrad(() => {
      for (const [param, p] of model.namedParameters()) {
        const { name, transpose } = arch.hfTensor(param);
        const found = [name, ...arch.hfAliases(name)].find((n) => entries.has(n));
        const want = transpose ? [...p.shape].reverse() : [...p.shape];
        if (!found) {
          throw new ModelFileError({ file: missingFrom, tensor: name }, `is missing; ${arch.name} with this config.json needs it as F32/F16/BF16 ${formatShape(want)} (troupe parameter ${param})`);
        }
        const { file, entry } = entries.get(found)!;
        used.add(found);
        if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
          throw new ModelFileError({ file: file.path, tensor: found }, `has shape ${formatShape(entry.shape)}, config.json implies ${formatShape(want)}`);
        }
        if (!["F32", "F16", "BF16"].includes(entry.dtype)) {
          throw new ModelFileError({ file: file.path, tensor: found }, `is ${entry.dtype}; weights must be F32, F16 or BF16`);
        }
        if (entry.end > file.size) {
          throw new ModelFileError({ file: file.path, tensor: found }, `needs bytes [${entry.begin}, ${entry.end}) of the file, which has ${file.size} (truncated)`);
        }
        dtypes.add(entry.dtype);
        const dst = p.f32();
        if (!transpose) file.readInto(found, dst);
        else {
          const tmp = new Float32Array(dst.length);
          file.readInto(found, tmp);
          const [rows, cols] = [entry.shape[0]!, entry.shape[1]!]; // file (in, out) → parameter (out, in)
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dst[j * rows + i] = tmp[i * cols + j]!;
        }
      }
    });
    const tiedHead = !model.namedParameters().some(([n]) => arch.hfTensor(n).name === "lm_head.weight");
    for (const name of entries.keys()) {
      if (used.has(name) || arch.isHfBuffer(name) || (tiedHead && name === "lm_head.weight")) continue;
      throw new ModelFileError({ file: entries.get(name)!.file.path, tensor: name }, `is not a parameter of ${arch.name} with this config.json (a different architecture or size?)`);
    }
    const tokenizer = readHfTokenizer(dir) ?? byteTokenizer();
    if (tokenizer.spec !== "bytes" && tokenizer.vocabSize > model.dims.vocabSize) {
      throw new ModelFileError({ file: join(dir, TOKENIZER_FILE) }, `has ${tokenizer.vocabSize} ids, more than config.json's vocab_size ${model.dims.vocabSize}`);
    }
    attachTokenizer(model, tokenizer);
    return { model, arch, config, dir, files, dtypes: [...dtypes].sort(), tokenizer };
  } catch (err) {
    if (isModelsError(err)) throw err;
    if (isKernelError(err)) throw new ModelFileError({ file: files[0]! }, (err as Error).message, { cause: err });
    throw err;
  } finally {
    for (const h of opened.values()) h.close();
  }
}
