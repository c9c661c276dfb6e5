// Writing a model as a Hugging Face model directory (`--save-hf DIR`): config.json in the
// architecture's keys and the weights under their Hugging Face names and layouts, in
// model.safetensors or, past `maxShardBytes`, in shards with model.safetensors.index.json (as
// transformers' save_pretrained does). F32 by default, so reading it back is bit-identical;
// BF16 or F16 on request. Each file lands by rename, one tensor is converted at a time. The
// model's tokenizer (tokenizer.json, tokenizer_config.json) goes beside the weights, as
// transformers' directories carry it; a byte-level model writes none (and removes stale ones).
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "../../data/mod.js";
import { type StreamedTensor, type Tensor, fromArray, toBF16, toF16, writeSafetensorsFile } from "../../kernels/mod.js";
import { architectureOf, type CausalLM } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";
import { adapterOf } from "../lora/mod.js";
import { tokenizerOf } from "../tokenizer.js";
import { HF_CONFIG, HF_INDEX, HF_WEIGHTS } from "./read.js";

export interface SaveHfOptions {
  /** Split the weights into shards of at most this many bytes (default 5 GB, as transformers). */
  readonly maxShardBytes?: number;
  /** Storage dtype (default "f32": read back bit-identical). */
  readonly dtype?: "f32" | "bf16" | "f16";
  /** Extra config.json keys (e.g. the tokenizer troupe trained with). */
  readonly extraConfig?: Record<string, unknown>;
}

export interface SavedHf {
  readonly dir: string;
  readonly files: string[];
  readonly bytes: number;
}

function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.size * t.data.BYTES_PER_ELEMENT);
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Writes `model` (no adapter: fuse it first, or save the adapter as PEFT) to `dir`. */
export function saveHfModel(model: CausalLM, dir: string, options: SaveHfOptions = {}): SavedHf {
  if (adapterOf(model)) {
    throw new ModelConfigError("saveHf", "the model carries a LoRA/DoRA adapter: fuse it into the base first (--fuse, mergeAdapters) or save the adapter in PEFT's format");
  }
  const arch = architectureOf(model);
  const dtype = options.dtype ?? "f32";
  const width = dtype === "f32" ? 4 : 2;
  const maxShard = options.maxShardBytes ?? 5e9;
  if (!(maxShard > 0)) throw new ModelConfigError("saveHf.maxShardBytes", `expected a positive number, got ${maxShard}`);
  mkdirSync(dir, { recursive: true });
  const tensors: StreamedTensor[] = model.namedParameters().map(([param, p]) => {
    const { name, transpose } = arch.hfTensor(param);
    const shape = transpose ? [...p.shape].reverse() : [...p.shape];
    return {
      name,
      dtype: dtype === "f32" ? "F32" : dtype === "bf16" ? "BF16" : "F16",
      shape,
      bytes: () => {
        let t: Tensor = p;
        if (transpose) {
          const [rows, cols] = [p.shape[0]!, p.shape[1]!];
          const src = p.f32();
          const out = new Float32Array(src.length);
          for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j]!;
          t = fromArray(out, shape);
        }
        return bytesOf(dtype === "f32" ? t : dtype === "bf16" ? toBF16(t) : toF16(t));
      },
    };
  });
  // shards: consecutive tensors up to maxShard bytes each (a larger tensor gets its own)
  const shards: StreamedTensor[][] = [[]];
  let used = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * width;
    if (used > 0 && used + n > maxShard) {
      shards.push([]);
      used = 0;
    }
    shards[shards.length - 1]!.push(t);
    used += n;
  }
  // drop weights of an earlier save that this one does not overwrite
  for (const f of readdirSync(dir)) if (/^model(-\d{5}-of-\d{5})?\.safetensors$/.test(f) || f === HF_INDEX) rmSync(join(dir, f), { force: true });
  const files: string[] = [];
  let bytes = 0;
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const name = shards.length === 1 ? HF_WEIGHTS : `model-${String(i + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
    bytes += writeSafetensorsFile(join(dir, name), shard, { format: "pt" });
    files.push(name);
    for (const t of shard) weightMap[t.name] = name;
  });
  if (shards.length > 1) {
    const total = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * width, 0);
    writeJson(join(dir, HF_INDEX), { metadata: { total_size: total }, weight_map: weightMap });
    files.push(HF_INDEX);
  }
  const config = { ...arch.toHf(arch.configOf(model)), torch_dtype: dtype === "f32" ? "float32" : dtype === "bf16" ? "bfloat16" : "float16", ...options.extraConfig };
  writeJson(join(dir, HF_CONFIG), config);
  files.push(HF_CONFIG);
  const tok = tokenizerOf(model);
  for (const f of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE]) {
    const b = tok.files.get(f);
    if (!b) {
      rmSync(join(dir, f), { force: true });
      continue;
    }
    const tmp = join(dir, `${f}.tmp-${process.pid}`);
    writeFileSync(tmp, b);
    renameSync(tmp, join(dir, f));
    files.push(f);
    bytes += b.length;
  }
  return { dir, files, bytes };
}
