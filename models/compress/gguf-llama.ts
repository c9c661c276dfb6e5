// GGUF export and import of troupe's Llama (kernels/nn/llama.ts, Hugging Face's
// LlamaForCausalLM names) as llama.cpp's `llama` architecture (src/models/llama.cpp), laid out
// the way llama.cpp's convert_hf_to_gguf.py writes a Hugging Face Llama:
//   model.embed_tokens → token_embd, model.norm → output_norm, lm_head → output (absent when
//   tied: llama.cpp then reuses token_embd), per block input_layernorm → attn_norm,
//   self_attn.{q,k,v,o}_proj → attn_{q,k,v,output}, post_attention_layernorm → ffn_norm,
//   mlp.{gate,up,down}_proj → ffn_{gate,up,down} (biases as .bias when the config has them).
// Rotary embeddings: Hugging Face (and troupe) rotate the two halves of each head
// ("rotate_half"); llama.cpp's llama rotates adjacent pairs, so the rows of q_proj and k_proj
// (and their biases) are permuted within each head, row 2i + j ← row j·hs/2 + i — the
// converter's permute(). Scores q·k are unchanged by a permutation applied to both.
// Rope scaling: "linear" is llama.rope.scaling.type/factor; "llama3" is a rope_freqs.weight
// tensor of per-frequency divisors (the converter's generate_extra_tensors), with troupe's own
// key troupe.llama.rope_scaling so that reading the file back restores the config exactly.
// Legend: H heads, KV key/value heads, hs head size, C hidden.
import { type GgufFile, type GgufKV, type GgufTensor, Llama, type ResolvedLlamaConfig, kv, ggufToF32, tensor as makeTensor } from "../../kernels/mod.js";
import { createModel } from "../arch/mod.js";
import { ExportFormatError } from "../errors.js";

type Named = [string, Float32Array, number[]];

/** troupe Llama parameter name → gguf tensor name. */
export function llamaGgufName(name: string): string | null {
  const fixed: Record<string, string> = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
  };
  if (fixed[name]) return fixed[name]!;
  const m = /^model\.layers\.(\d+)\.(input_layernorm|post_attention_layernorm|self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const part: Record<string, string> = {
    input_layernorm: "attn_norm", post_attention_layernorm: "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
  };
  return `blk.${m[1]}.${part[m[2]!]}.${m[3]}`;
}

/** Row permutation rotate_half → adjacent pairs, per head; `inverse` undoes it. */
export function permuteRope(values: Float32Array, heads: number, rowLen: number, inverse = false): Float32Array {
  const rows = values.length / rowLen;
  const hs = rows / heads, half = hs / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const ggml = h * hs + 2 * i + j, hf = h * hs + j * half + i;
        const [to, from] = inverse ? [hf, ggml] : [ggml, hf];
        out.set(values.subarray(from * rowLen, (from + 1) * rowLen), to * rowLen);
      }
    }
  }
  return out;
}

function permuted(name: string, values: Float32Array, shape: readonly number[], c: ResolvedLlamaConfig, inverse: boolean): Float32Array {
  const m = /self_attn\.([qk])_proj\.(weight|bias)$/.exec(name);
  if (!m) return values;
  const heads = m[1] === "q" ? c.numHeads : c.numKvHeads;
  return permuteRope(values, heads, m[2] === "weight" ? shape[1]! : 1, inverse);
}

/** llama3 rope: the divisor of each of the head's hs/2 frequencies (convert_hf_to_gguf's rope_factors). */
export function llama3RopeFactors(c: ResolvedLlamaConfig): Float32Array {
  const s = c.ropeScaling;
  if (!s || s.type !== "llama3") throw new ExportFormatError("internal: not a llama3 rope");
  const d = c.headDim, out = new Float32Array(d / 2);
  const lowWave = s.originalMaxPositions / s.lowFreqFactor, highWave = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < d / 2; i++) {
    const freq = 1 / c.ropeTheta ** (Math.fround(2 * i) / d);
    const wave = (2 * Math.PI) / freq;
    if (wave < highWave) out[i] = 1;
    else if (wave > lowWave) out[i] = s.factor;
    else {
      const smooth = (s.originalMaxPositions / wave - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** Metadata and (name, f32 values in GGUF row order, troupe shape) of a Llama; the caller encodes. */
export function llamaGgufParts(model: Llama): { meta: [string, GgufKV][]; tensors: (Named & { source: string })[] } {
  const c = model.config;
  const meta: [string, GgufKV][] = [
    ["llama.vocab_size", kv.u32(c.vocabSize)],
    ["llama.context_length", kv.u32(c.maxPositions)],
    ["llama.embedding_length", kv.u32(c.hiddenSize)],
    ["llama.feed_forward_length", kv.u32(c.intermediateSize)],
    ["llama.block_count", kv.u32(c.numLayers)],
    ["llama.attention.head_count", kv.u32(c.numHeads)],
    ["llama.attention.head_count_kv", kv.u32(c.numKvHeads)],
    ["llama.attention.key_length", kv.u32(c.headDim)],
    ["llama.attention.value_length", kv.u32(c.headDim)],
    ["llama.attention.layer_norm_rms_epsilon", kv.f32(c.rmsNormEps)],
    ["llama.rope.dimension_count", kv.u32(c.headDim)],
    ["llama.rope.freq_base", kv.f32(c.ropeTheta)],
  ];
  const s = c.ropeScaling;
  if (s?.type === "linear") meta.push(["llama.rope.scaling.type", kv.string("linear")], ["llama.rope.scaling.factor", kv.f32(s.factor)]);
  if (s?.type === "llama3") meta.push(["troupe.llama.rope_scaling", kv.string(JSON.stringify(s))]);
  const tensors: (Named & { source: string })[] = [];
  for (const [name, p] of model.namedParameters()) {
    const g = llamaGgufName(name);
    if (!g) throw new ExportFormatError(`parameter "${name}" has no place in llama.cpp's llama architecture (merge adapters and remove quantisation wrappers before exporting)`);
    tensors.push([g, permuted(name, p.f32(), p.shape, c, false), [...p.shape]] as Named & { source: string });
    tensors[tensors.length - 1]!.source = name;
  }
  if (s?.type === "llama3") {
    const f = llama3RopeFactors(c);
    tensors.push(Object.assign(["rope_freqs.weight", f, [f.length]] as Named, { source: "(llama3 rope factors)" }));
  }
  return { meta, tensors };
}

function num(file: GgufFile, key: string, source: string, fallback?: number): number {
  const e = file.metadata.get(key);
  if (!e || e.type === "array") {
    if (fallback !== undefined) return fallback;
    throw new ExportFormatError(`${source}: GGUF metadata "${key}" is missing`);
  }
  // f32 values (eps, theta, factors) back to the shortest decimal that rounds to them (1e-5, not 9.99999975e-6)
  return e.type === "f32" ? Number(Math.fround(Number(e.value)).toPrecision(7)) : Number(e.value);
}

/** A troupe Llama from a GGUF of llama.cpp's llama architecture (quantised tensors dequantised). */
export function llamaFromGguf(file: GgufFile, vocabSize: number, source: string): Llama {
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const C = num(file, "llama.embedding_length", source), H = num(file, "llama.attention.head_count", source);
  const hs = num(file, "llama.attention.key_length", source, num(file, "llama.rope.dimension_count", source, C / H));
  if (num(file, "llama.rope.dimension_count", source, hs) !== hs) throw new ExportFormatError(`${source}: partial rotary embeddings (rope.dimension_count ≠ head size) are not supported`);
  const scalingType = file.metadata.get("llama.rope.scaling.type")?.value;
  const own = file.metadata.get("troupe.llama.rope_scaling")?.value;
  let ropeScaling: ResolvedLlamaConfig["ropeScaling"] = null;
  if (typeof own === "string") ropeScaling = JSON.parse(own) as ResolvedLlamaConfig["ropeScaling"];
  else if (scalingType === "linear") ropeScaling = { type: "linear", factor: num(file, "llama.rope.scaling.factor", source) };
  else if (scalingType !== undefined && scalingType !== "none") throw new ExportFormatError(`${source}: rope scaling ${JSON.stringify(scalingType)} is not supported (linear, or troupe's llama3)`);
  if (byName.has("rope_freqs.weight") && typeof own !== "string") throw new ExportFormatError(`${source}: rope_freqs.weight without troupe.llama.rope_scaling: the llama3 parameters cannot be recovered from the factors`);
  byName.delete("rope_freqs.weight");
  const config = {
    vocabSize, hiddenSize: C, intermediateSize: num(file, "llama.feed_forward_length", source), numHeads: H,
    numKvHeads: num(file, "llama.attention.head_count_kv", source, H), numLayers: num(file, "llama.block_count", source), headDim: hs,
    maxPositions: num(file, "llama.context_length", source), rmsNormEps: num(file, "llama.attention.layer_norm_rms_epsilon", source),
    ropeTheta: num(file, "llama.rope.freq_base", source, 10000), ropeScaling, tiedLmHead: !byName.has("output.weight"),
    attentionBias: byName.has("blk.0.attn_q.bias"), mlpBias: byName.has("blk.0.ffn_gate.bias"),
  };
  const model = createModel("llama", config) as Llama;
  const state = new Map<string, ReturnType<typeof makeTensor>>();
  for (const [name, p] of model.namedParameters()) {
    const g = llamaGgufName(name)!;
    const t = byName.get(g);
    if (!t) throw new ExportFormatError(`${source}: tensor "${g}" is missing`);
    if (t.shape.join(",") !== p.shape.join(",")) throw new ExportFormatError(`${source}: tensor "${g}" is [${t.shape.join(", ")}], expected [${p.shape.join(", ")}]`);
    state.set(name, makeTensor(permuted(name, ggufToF32(t), t.shape, model.config, true), [...t.shape]));
    byName.delete(g);
  }
  if (byName.size > 0) throw new ExportFormatError(`${source}: unexpected tensors ${[...byName.keys()].join(", ")}`);
  model.loadStateDict(state);
  return model;
}

export type { GgufTensor };
