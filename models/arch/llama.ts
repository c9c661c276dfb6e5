// The llama architecture (kernels/nn/llama.ts): Hugging Face's LlamaForCausalLM, whose
// parameter names troupe uses as they are (model.layers.{i}.self_attn.q_proj.weight, ...), so
// the tensor and PEFT module maps are the identity. config.json keys follow transformers'
// LlamaConfig; rope_scaling "linear" and "llama3" are implemented, other kinds are refused.
import { createHash } from "node:crypto";
import { Llama, type LlamaConfig, type ResolvedLlamaConfig, type RopeScaling, isKernelError, resolveLlamaConfig } from "../../kernels/mod.js";
import { ModelConfigError, ModelFileError } from "../errors.js";
import { HfConfigReader, type Json } from "./hf-config.js";
import type { Architecture, CausalLM } from "./types.js";

type Config = ResolvedLlamaConfig;

function resolve(raw: unknown, key = "model"): Config {
  if (!raw || typeof raw !== "object") throw new ModelConfigError(key, `expected a Llama config object, got ${JSON.stringify(raw)}`);
  try {
    return resolveLlamaConfig(raw as LlamaConfig);
  } catch (err) {
    if (isKernelError(err)) throw new ModelConfigError(`${key}.${(err as { arg?: string }).arg ?? "config"}`, (err as Error).message, { cause: err });
    throw err;
  }
}

function ropeScaling(r: HfConfigReader, json: Json, file: string): RopeScaling | null {
  const s = r.obj("rope_scaling") ?? (r.obj("rope_parameters") as Json | null);
  if (!s) return null;
  const kind = s.rope_type ?? s.type ?? "default";
  const sr = new HfConfigReader(s, `${file} (rope_scaling)`);
  if (kind === "default") return null;
  if (kind === "linear") return { type: "linear", factor: sr.num("factor") };
  if (kind === "llama3") {
    return {
      type: "llama3",
      factor: sr.num("factor"),
      lowFreqFactor: sr.num("low_freq_factor"),
      highFreqFactor: sr.num("high_freq_factor"),
      originalMaxPositions: sr.int("original_max_position_embeddings"),
    };
  }
  void json;
  throw new ModelFileError({ file }, `rope_scaling type ${JSON.stringify(kind)} is not supported (troupe implements "default", "linear" and "llama3")`);
}

export const llama: Architecture<Config> = {
  name: "llama",
  hfClass: "LlamaForCausalLM",
  resolve,
  create: (config, rng) => new Llama(config, rng),
  configOf: (model: CausalLM) => ({ ...(model as Llama).config }),
  dims: (c) => ({ vocabSize: c.vocabSize, hidden: c.hiddenSize, layers: c.numLayers, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, maxPositions: c.maxPositions }),
  digest: (config) => {
    const c = resolve(config);
    const canon = JSON.stringify([c.vocabSize, c.hiddenSize, c.intermediateSize, c.numHeads, c.numKvHeads, c.numLayers, c.headDim, c.maxPositions,
      c.rmsNormEps, c.ropeTheta, c.ropeScaling, c.tiedLmHead, c.attentionBias, c.mlpBias]);
    return createHash("sha256").update(`llama:${canon}`).digest("hex");
  },
  fromHf: (json: Json, file: string) => {
    const r = new HfConfigReader(json, file);
    r.only("hidden_act", "silu", "SwiGLU with SiLU");
    r.only("attention_dropout", [0, 0.0], "no attention dropout");
    const heads = r.int("num_attention_heads");
    const hidden = r.int("hidden_size");
    if (!r.has("head_dim") && hidden % heads !== 0) throw new ModelFileError({ file }, `"hidden_size" ${hidden} is not a multiple of "num_attention_heads" ${heads} (and there is no "head_dim")`);
    const kv = r.int("num_key_value_heads", heads);
    if (heads % kv !== 0) throw new ModelFileError({ file }, `"num_attention_heads" ${heads} is not a multiple of "num_key_value_heads" ${kv}`);
    const ropeTheta = r.has("rope_theta") ? r.num("rope_theta") : ((r.obj("rope_parameters")?.rope_theta as number | undefined) ?? 10000);
    const c: LlamaConfig = {
      vocabSize: r.int("vocab_size"),
      hiddenSize: hidden,
      intermediateSize: r.int("intermediate_size"),
      numHeads: heads,
      numKvHeads: kv,
      numLayers: r.int("num_hidden_layers"),
      ...(r.has("head_dim") ? { headDim: r.int("head_dim") } : {}),
      maxPositions: r.int("max_position_embeddings", 2048),
      rmsNormEps: r.num("rms_norm_eps", 1e-6),
      ropeTheta,
      ropeScaling: ropeScaling(r, json, file),
      tiedLmHead: r.bool("tie_word_embeddings", false),
      attentionBias: r.bool("attention_bias", false),
      mlpBias: r.bool("mlp_bias", false),
      initStd: r.num("initializer_range", 0.02),
    };
    try {
      return resolveLlamaConfig(c);
    } catch (err) {
      throw new ModelFileError({ file }, (err as Error).message, { cause: err });
    }
  },
  toHf: (c) => ({
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    num_hidden_layers: c.numLayers,
    head_dim: c.headDim,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling === null ? null
      : c.ropeScaling.type === "linear" ? { rope_type: "linear", factor: c.ropeScaling.factor }
      : { rope_type: "llama3", factor: c.ropeScaling.factor, low_freq_factor: c.ropeScaling.lowFreqFactor, high_freq_factor: c.ropeScaling.highFreqFactor, original_max_position_embeddings: c.ropeScaling.originalMaxPositions },
    tie_word_embeddings: c.tiedLmHead,
    hidden_act: "silu",
    attention_bias: c.attentionBias,
    mlp_bias: c.mlpBias,
    attention_dropout: 0.0,
    initializer_range: c.initStd,
    pretraining_tp: 1,
    torch_dtype: "float32",
  }),
  hfTensor: (param) => ({ name: param, transpose: false }),
  hfAliases: () => [],
  isHfBuffer: (name) => /\.rotary_emb\.inv_freq$/.test(name),
  hfModule: (path) => path,
  moduleFromHf: (hfPath) => (/^(model\.(embed_tokens|norm|layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj|input_layernorm|post_attention_layernorm))|lm_head)$/.test(hfPath) ? hfPath : null),
  linearNames: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  defaultLoraTargets: ["q_proj", "v_proj"],
  blockTarget: (block, name) => `model.layers.${block}.*.${name}`,
  peftFanInFanOut: false,
};
