// GGUF export and import of troupe models, for llama.cpp: the GPT as llama.cpp's `gpt2`, the
// Llama as its `llama` (gguf-llama.ts; the same types and tokenizer rules). The GPT is written as llama.cpp's
// `gpt2` architecture (src/models/gpt2.cpp): learned positions, pre-LayerNorm blocks with a
// fused qkv projection (q, k, v in that order, heads contiguous), tanh-GELU MLP, final
// LayerNorm, and an lm_head that is the token embedding when tied (no `output.weight`; llama.cpp
// then reuses `token_embd.weight`). Linear weights [out, in] become ggml {in, out}: the same
// bytes, the dimensions listed fastest-first. Matrices take the export type (F32, F16, Q8_0,
// Q4_0; a matrix whose rows are not a multiple of 32 stays F32 for the block types), except that
// a Q4_0 export keeps the embeddings (token, position; the tied lm head) in Q8_0, as llama.cpp's
// quantiser keeps its output tensor above the body's type; vectors (norms, biases) stay F32. The
// tokenizer is the model's: the byte vocabulary (vocab.ts) or a byte-level BPE tokenizer.json
// (vocab-bpe.ts), read back and attached to the imported model.
// Legend: V vocab, C channels, L layers, P positions (block size).
import { type GPT, type GgmlTypeName, type GgufFile, type GgufKV, type GgufTensor, type Llama, kv, ggmlBytes, ggufToF32, parseGguf, quantizeBlocks, readGguf, serializeGguf, toF16, tensor as makeTensor, noGrad } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { writeFileSync } from "node:fs";
import { ExportFormatError } from "../errors.js";
import { createGpt } from "../gpt.js";
import { attachTokenizer, tokenizerOf } from "../spec.js";
import { byteVocabMetadata, isByteVocab } from "./vocab.js";
import { bpeTokenizerFromGguf, bpeVocabMetadata } from "./vocab-bpe.js";
import { llamaFromGguf, llamaGgufParts } from "./gguf-llama.js";

export const ExportType = { f32: "f32", f16: "f16", q8_0: "q8_0", q4_0: "q4_0" } as const;
export type ExportType = (typeof ExportType)[keyof typeof ExportType];

/** general.file_type (llama_ftype): ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7. */
const FILE_TYPE: Record<ExportType, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

export interface GgufExportOptions {
  readonly type: ExportType;
  /** general.name (default "troupe-gpt"). */
  readonly name?: string;
}

export interface GgufExport {
  readonly bytes: Uint8Array;
  readonly type: ExportType;
  readonly tensors: { readonly name: string; readonly source: string; readonly type: GgmlTypeName; readonly shape: readonly number[] }[];
}

/** troupe parameter name → gguf tensor name (llama.cpp gpt2). */
function ggufName(name: string): string | null {
  const fixed: Record<string, string> = {
    "wte.weight": "token_embd.weight",
    "wpe.weight": "position_embd.weight",
    "ln_f.weight": "output_norm.weight",
    "ln_f.bias": "output_norm.bias",
    "lm_head.weight": "output.weight",
  };
  if (fixed[name]) return fixed[name]!;
  const m = /^h\.(\d+)\.(ln_1|qkv|proj|ln_2|fc|fc_proj)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const part: Record<string, string> = { ln_1: "attn_norm", qkv: "attn_qkv", proj: "attn_output", ln_2: "ffn_norm", fc: "ffn_up", fc_proj: "ffn_down" };
  return `blk.${m[1]}.${part[m[2]!]}.${m[3]}`;
}

/** Embedding tables (and the untied head), which a Q4_0 export keeps in Q8_0. */
export function isEmbedding(name: string): boolean {
  return name === "wte.weight" || name === "wpe.weight" || name === "lm_head.weight" || name === "model.embed_tokens.weight";
}

/** The ggml type troupe parameter `name` of this shape gets under an export type. */
export function exportedType(type: ExportType, shape: readonly number[], name = ""): GgmlTypeName {
  if (shape.length < 2) return "f32";
  if (type === "q8_0" || type === "q4_0") {
    if (shape[shape.length - 1]! % 32 !== 0) return "f32";
    return type === "q4_0" && isEmbedding(name) ? "q8_0" : type;
  }
  return type;
}

function encode(values: Float32Array, shape: readonly number[], t: GgmlTypeName): Uint8Array {
  if (t === "f32") return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (t === "f16") {
    const h = toF16(makeTensor(values, [values.length])).data as Uint16Array;
    return new Uint8Array(h.buffer.slice(h.byteOffset, h.byteOffset + h.byteLength));
  }
  const out = quantizeBlocks(values, t);
  if (out.length !== ggmlBytes(t, shape)) throw new ExportFormatError(`internal: ${t} size mismatch`);
  return out;
}

function checkFinite(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new ExportFormatError(`parameter "${name}" holds ${values[i]} at ${i}; refusing to export a non-finite model`);
  }
}

function vocabMetadata(model: CausalLM): [string, GgufKV][] {
  const tok = tokenizerOf(model);
  const V = model.dims.vocabSize;
  if (tok.spec === "bytes" && V !== 256) throw new ExportFormatError(`the GGUF tokenizer is troupe's byte vocabulary (256 tokens); this model has ${V}`);
  return tok.spec === "bytes" ? byteVocabMetadata() : bpeVocabMetadata(tok, V);
}

function general(arch: string, options: GgufExportOptions): [string, GgufKV][] {
  return [
    ["general.architecture", kv.string(arch)],
    ["general.name", kv.string(options.name ?? `troupe-${arch}`)],
    ["general.file_type", kv.u32(FILE_TYPE[options.type])],
    ["general.quantization_version", kv.u32(2)],
  ];
}

/** The GGUF file of a model of any registered architecture (plain Linear layers: merge adapters and strip QAT wrappers first). */
export function modelToGguf(model: CausalLM, options: GgufExportOptions): GgufExport {
  if (!(options.type in FILE_TYPE)) throw new ExportFormatError(`unknown export type ${JSON.stringify(options.type)} (f32, f16, q8_0, q4_0)`);
  if (model.arch === "gpt2") return gptToGguf(model as GPT, options);
  if (model.arch !== "llama") throw new ExportFormatError(`architecture ${JSON.stringify(model.arch)} has no GGUF export here (gpt2, llama)`);
  const type = options.type;
  const parts = llamaGgufParts(model as Llama);
  const meta: [string, GgufKV][] = [...general("llama", options), ...parts.meta, ...vocabMetadata(model)];
  const tensors: GgufTensor[] = [];
  const listed: GgufExport["tensors"][number][] = [];
  for (const t of parts.tensors) {
    const [g, values, shape] = t;
    checkFinite(t.source, values);
    const ty = exportedType(type, shape, t.source);
    tensors.push({ name: g, shape, type: ty, data: encode(values, shape, ty) });
    listed.push({ name: g, source: t.source, type: ty, shape });
  }
  return { bytes: serializeGguf(meta, tensors), type, tensors: listed };
}

/** The GGUF file of a GPT as llama.cpp's gpt2. */
export function gptToGguf(model: GPT, options: GgufExportOptions): GgufExport {
  const type = options.type;
  if (!(type in FILE_TYPE)) throw new ExportFormatError(`unknown export type ${JSON.stringify(type)} (f32, f16, q8_0, q4_0)`);
  const c = model.config;
  const meta: [string, GgufKV][] = [
    ...general("gpt2", options),
    ["gpt2.context_length", kv.u32(c.blockSize)],
    ["gpt2.embedding_length", kv.u32(c.nEmbd)],
    ["gpt2.feed_forward_length", kv.u32(c.mlpHidden ?? 4 * c.nEmbd)],
    ["gpt2.block_count", kv.u32(c.nLayer)],
    ["gpt2.attention.head_count", kv.u32(c.nHead)],
    ["gpt2.attention.layer_norm_epsilon", kv.f32(c.lnEps)],
    ...vocabMetadata(model),
  ];
  const tensors: GgufTensor[] = [];
  const listed: GgufExport["tensors"][number][] = [];
  for (const [name, p] of model.namedParameters()) {
    const g = ggufName(name);
    if (!g) throw new ExportFormatError(`parameter "${name}" has no place in llama.cpp's gpt2 architecture (merge adapters and remove quantisation wrappers before exporting)`);
    const values = noGrad(() => p.f32());
    checkFinite(name, values);
    const t = exportedType(type, p.shape, name);
    tensors.push({ name: g, shape: [...p.shape], type: t, data: encode(values, p.shape, t) });
    listed.push({ name: g, source: name, type: t, shape: [...p.shape] });
  }
  return { bytes: serializeGguf(meta, tensors), type, tensors: listed };
}

/** Writes the GGUF file; returns what was written. */
export function exportGguf(model: CausalLM, path: string, options: GgufExportOptions): GgufExport {
  const out = modelToGguf(model, options);
  writeFileSync(path, out.bytes);
  return out;
}

function u(file: GgufFile, key: string, source: string): number {
  const e = file.metadata.get(key);
  if (!e || e.type === "array") throw new ExportFormatError(`${source}: GGUF metadata "${key}" is missing`);
  return Number(e.value);
}

/** The tokenizer a GGUF carries: null for troupe's byte vocabulary, else a BPE; and the vocabulary size. */
function vocabOf(file: GgufFile, source: string): { tok: ReturnType<typeof bpeTokenizerFromGguf> | null; size: number } {
  const tokens = file.metadata.get("tokenizer.ggml.tokens")?.value as readonly unknown[] | undefined;
  const merges = file.metadata.get("tokenizer.ggml.merges")?.value as readonly unknown[] | undefined;
  const bytes = isByteVocab(tokens, merges);
  if (!bytes && !(merges && merges.length > 0)) throw new ExportFormatError(`${source}: the tokenizer is neither troupe's byte vocabulary (256 byte tokens, no merges) nor a BPE with merges`);
  return { tok: bytes ? null : bpeTokenizerFromGguf(file, source), size: tokens!.length };
}

/** A model of any supported architecture (gpt2, llama) from a GGUF file, its tokenizer attached. */
export function modelFromGguf(file: GgufFile, source = "<gguf>"): CausalLM {
  const arch = file.metadata.get("general.architecture")?.value;
  if (arch === "gpt2") return gptFromGguf(file, source);
  if (arch !== "llama") throw new ExportFormatError(`${source}: architecture ${JSON.stringify(arch)} is not supported here (gpt2, llama)`);
  const { tok, size } = vocabOf(file, source);
  const model = llamaFromGguf(file, size, source);
  if (tok) attachTokenizer(model, tok);
  return model;
}

/** A GPT from a GGUF file of llama.cpp's gpt2 architecture (quantised tensors dequantised). */
export function gptFromGguf(file: GgufFile, source = "<gguf>"): GPT {
  const arch = file.metadata.get("general.architecture")?.value;
  if (arch !== "gpt2") throw new ExportFormatError(`${source}: architecture ${JSON.stringify(arch)} is not supported here (gpt2)`);
  const { tok, size } = vocabOf(file, source);
  const C = u(file, "gpt2.embedding_length", source);
  const ff = u(file, "gpt2.feed_forward_length", source);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const model = createGpt({
    vocabSize: size, blockSize: u(file, "gpt2.context_length", source), nEmbd: C, nHead: u(file, "gpt2.attention.head_count", source),
    nLayer: u(file, "gpt2.block_count", source), lnEps: u(file, "gpt2.attention.layer_norm_epsilon", source), tiedLmHead: !byName.has("output.weight"),
    mlpHidden: ff,
  });
  const state = new Map<string, ReturnType<typeof makeTensor>>();
  for (const [name, p] of model.namedParameters()) {
    const g = ggufName(name)!;
    const t = byName.get(g);
    if (!t) throw new ExportFormatError(`${source}: tensor "${g}" is missing`);
    if (t.shape.join(",") !== p.shape.join(",")) throw new ExportFormatError(`${source}: tensor "${g}" is [${t.shape.join(", ")}], expected [${p.shape.join(", ")}]`);
    state.set(name, makeTensor(ggufToF32(t), [...t.shape]));
    byName.delete(g);
  }
  if (byName.size > 0) throw new ExportFormatError(`${source}: unexpected tensors ${[...byName.keys()].join(", ")}`);
  model.loadStateDict(state);
  if (tok) attachTokenizer(model, tok);
  return model;
}

export function readGgufModel(path: string): CausalLM {
  return modelFromGguf(readGguf(path), path);
}

/** The model llama.cpp computes with after this export: every exported tensor round-tripped through its type. */
export function dequantizedCopy<M extends CausalLM>(model: M, type: ExportType): M {
  const m = modelFromGguf(parseGguf(modelToGguf(model, { type }).bytes), `<${type} export>`);
  return attachTokenizer(m, tokenizerOf(model)) as M;
}
