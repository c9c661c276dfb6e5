// The gpt2 architecture: troupe's GPT (kernels/nn/gpt.ts) is GPT-2 — learned positions,
// pre-LayerNorm blocks, tanh-GELU MLP, fused qkv, biases everywhere, head tied to wte unless
// configured otherwise. Hugging Face names its tensors transformer.h.{i}.attn.c_attn.weight and
// so on, and stores the four projections as Conv1D: (in, out), transposed against nn.Linear.
// Original OpenAI checkpoints on the Hub drop the "transformer." prefix; both spellings load.
import { createHash } from "node:crypto";
import { GPT, type ResolvedGPTConfig } from "../../kernels/mod.js";
import { ModelFileError } from "../errors.js";
import { DEFAULT_TEXT_CONFIG, resolveGptConfig } from "../gpt.js";
import { HfConfigReader, type Json } from "./hf-config.js";
import type { Architecture, CausalLM, HfTensorName } from "./types.js";

type Config = ResolvedGPTConfig;

// troupe's names inside a block → Hugging Face's (module paths), and whether stored (in, out)
const BLOCK: Record<string, { hf: string; conv1d: boolean }> = {
  ln_1: { hf: "ln_1", conv1d: false },
  qkv: { hf: "attn.c_attn", conv1d: true },
  proj: { hf: "attn.c_proj", conv1d: true },
  ln_2: { hf: "ln_2", conv1d: false },
  fc: { hf: "mlp.c_fc", conv1d: true },
  fc_proj: { hf: "mlp.c_proj", conv1d: true },
};
const FROM_HF = new Map(Object.entries(BLOCK).map(([k, v]) => [v.hf, k]));
const TOP: Record<string, string> = { wte: "transformer.wte", wpe: "transformer.wpe", ln_f: "transformer.ln_f", lm_head: "lm_head" };

function moduleToHf(path: string): { hf: string; conv1d: boolean } | null {
  const m = /^h\.(\d+)\.([a-z_0-9]+)$/.exec(path);
  if (m) {
    const b = BLOCK[m[2]!];
    return b ? { hf: `transformer.h.${m[1]}.${b.hf}`, conv1d: b.conv1d } : null;
  }
  return TOP[path] ? { hf: TOP[path]!, conv1d: false } : null;
}

export const gpt2: Architecture<Config> = {
  name: "gpt2",
  hfClass: "GPT2LMHeadModel",
  resolve: (raw, key = "model") => resolveGptConfig((raw ?? {}) as Record<string, unknown>, key),
  create: (config, rng) => new GPT(config, rng),
  configOf: (model: CausalLM) => ({ ...(model as GPT).config }),
  dims: (c) => ({ vocabSize: c.vocabSize, hidden: c.nEmbd, layers: c.nLayer, heads: c.nHead, kvHeads: c.nHead, headDim: c.nEmbd / c.nHead, maxPositions: c.blockSize }),
  digest: (config) => {
    const c = resolveGptConfig(config);
    // mlpHidden only when pruning changed it (so digests of unpruned configs stay as they were)
    const canon = JSON.stringify([c.vocabSize, c.blockSize, c.nEmbd, c.nHead, c.nLayer, c.lnEps, c.tiedLmHead, ...(c.mlpHidden ? [c.mlpHidden] : [])]);
    return createHash("sha256").update(canon).digest("hex");
  },
  fromHf: (json: Json, file: string) => {
    const r = new HfConfigReader(json, file);
    r.only("activation_function", ["gelu_new", "gelu_pytorch_tanh"], "the tanh approximation of GELU");
    const nEmbd = r.int("n_embd");
    const inner = json.n_inner === null || json.n_inner === undefined ? undefined : r.int("n_inner"); // null: 4 * n_embd
    r.only("scale_attn_by_inverse_layer_idx", false, "attention scaled by 1/sqrt(head size) only");
    r.only("scale_attn_weights", true, "attention scaled by 1/sqrt(head size)");
    r.only("add_cross_attention", false, "a decoder-only model");
    if (nEmbd % r.int("n_head") !== 0) throw new ModelFileError({ file }, `"n_embd" ${nEmbd} is not a multiple of "n_head" ${r.int("n_head")}`);
    const c = resolveGptConfig({
      vocabSize: r.int("vocab_size"),
      blockSize: r.int("n_positions", r.has("n_ctx") ? r.int("n_ctx") : undefined),
      nEmbd,
      nHead: r.int("n_head"),
      nLayer: r.int("n_layer"),
      lnEps: r.num("layer_norm_epsilon", 1e-5),
      tiedLmHead: r.bool("tie_word_embeddings", true),
      dropout: 0,
      ...(inner !== undefined ? { mlpHidden: inner } : {}),
    }, file);
    return c;
  },
  toHf: (c) => ({
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_ctx: c.blockSize,
    n_embd: c.nEmbd,
    n_head: c.nHead,
    n_layer: c.nLayer,
    n_inner: c.mlpHidden ?? null,
    layer_norm_epsilon: c.lnEps,
    activation_function: "gelu_new",
    tie_word_embeddings: c.tiedLmHead,
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: 0,
    scale_attn_weights: true,
    torch_dtype: "float32",
  }),
  hfTensor: (param: string): HfTensorName => {
    const cut = param.lastIndexOf(".");
    const m = moduleToHf(param.slice(0, cut));
    if (!m) throw new ModelFileError({ file: "<gpt2>" }, `no Hugging Face name for parameter "${param}"`);
    const leaf = param.slice(cut + 1);
    return { name: `${m.hf}.${leaf}`, transpose: m.conv1d && leaf === "weight" };
  },
  hfAliases: (name) => (name.startsWith("transformer.") ? [name.slice("transformer.".length)] : []),
  isHfBuffer: (name) => /(^|\.)h\.\d+\.attn\.(bias|masked_bias)$/.test(name),
  hfModule: (path) => {
    const m = moduleToHf(path);
    if (!m) throw new ModelFileError({ file: "<gpt2>" }, `no Hugging Face module for "${path}"`);
    return m.hf;
  },
  moduleFromHf: (hfPath) => {
    const p = hfPath.startsWith("transformer.") ? hfPath.slice("transformer.".length) : hfPath;
    const m = /^h\.(\d+)\.(.+)$/.exec(p);
    if (m) {
      const t = FROM_HF.get(m[2]!);
      return t ? `h.${m[1]}.${t}` : null;
    }
    if (hfPath === "lm_head") return "lm_head";
    return ["wte", "wpe", "ln_f"].includes(p) ? p : null;
  },
  linearNames: ["qkv", "proj", "fc", "fc_proj"],
  defaultLoraTargets: ["qkv", "proj"],
  blockTarget: (block, name) => `h.${block}.${name}`,
  peftFanInFanOut: true,
};

export { DEFAULT_TEXT_CONFIG };
