// What llama.cpp's CPU backend computes for an exported model, reproduced in troupe: the
// weights as the GGUF stores them (round-tripped through F16 / Q8_0 / Q4_0), and the inputs of
// every matrix product converted to the weight's "vec_dot type" the way ggml does before the
// dot products — F16 for F16 weights, Q8_0 blocks of 32 along the input for Q8_0 and Q4_0
// weights (ggml-cpu's type_traits: vec_dot_type). The lm head of a tied model multiplies by
// token_embd, so the final norm's output is converted too. For the GPT, GELU is ggml's: a table of
// f16 values looked up at the f16-rounded input (ggml-cpu vec.h, GGML_GELU_FP16), so the MLP's
// activation is rounded to f16 on both sides (the Llama's SiLU/SwiGLU is computed in f32 by
// ggml, as by troupe). This is "troupe's own dequantised model" the GGUF interop tests compare
// llama.cpp with, for either architecture.
// Legend: N rows, C in features.
import { type GgmlTypeName, Linear, type MLP, Module, type Layer, type Tensor, fakeQuant, tensor, toF16, toF32 } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { type ExportType, dequantizedCopy, exportedType } from "./gguf.js";

function convert(x: Tensor, type: GgmlTypeName): Tensor {
  if (type === "q8_0" || type === "q4_0") return fakeQuant(x, { bits: 8, granularity: "block" });
  if (type === "f16") return tensor(toF32(toF16(x)).f32(), [...x.shape]);
  return x;
}

/** A layer whose input is converted to `type` first (inline: keeps the wrapped layer's names). */
class ConvertedInput extends Module implements Layer {
  constructor(private readonly inner: Module & Layer, private readonly type: GgmlTypeName, private readonly after: boolean) {
    super();
    this.addModule("inner", inner, { inline: true });
  }
  forward(x: Tensor): Tensor {
    return this.after ? convert(this.inner.forward(x), this.type) : this.inner.forward(convert(x, this.type));
  }
}

const f16round = (x: Float32Array) => toF32(toF16(tensor(x, [x.length]))).f32();

/** ggml's GELU: f16(gelu(f16(x))) from its f16 table; 0 below -10 and x above 10. No gradient. */
export function ggmlGelu(x: Tensor): Tensor {
  const src = x.f32();
  const h = f16round(src);
  const y = new Float32Array(src.length);
  const F = Math.fround, c = F(Math.sqrt(2 / Math.PI)), a = F(0.044715);
  for (let i = 0; i < src.length; i++) {
    const v = h[i]!;
    y[i] = src[i]! <= -10 ? 0 : src[i]! >= 10 ? src[i]! : F(F(0.5 * v) * F(1 + F(Math.tanh(F(c * F(v * F(1 + F(a * F(v * v)))))))));
  }
  const out = f16round(y);
  for (let i = 0; i < src.length; i++) if (src[i]! <= -10 || src[i]! >= 10) out[i] = y[i]!;
  return tensor(out, [...x.shape]);
}

/** fc → ggml's GELU → fc_proj, keeping the MLP's parameter names (inline children). */
class GgmlMlp extends Module implements Layer {
  constructor(fc: Module & Layer, fcProj: Module & Layer) {
    super();
    this.addModule("fc", fc, { inline: false });
    this.addModule("fc_proj", fcProj, { inline: false });
  }
  forward(x: Tensor): Tensor {
    return this.child<Module & Layer>("fc_proj").forward(ggmlGelu(this.child<Module & Layer>("fc").forward(x)));
  }
}

/** The model llama.cpp runs for this export type: stored weights and ggml's activation conversions. */
export function ggmlEquivalent<M extends CausalLM>(model: M, type: ExportType): M {
  const m = dequantizedCopy(model, type);
  m.eval();
  const gpt = m.arch === "gpt2";
  if (gpt) {
    for (let i = 0; i < m.dims.layers; i++) {
      const mlp = m.getModule(`h.${i}.mlp`) as MLP;
      m.replaceModule(`h.${i}.mlp`, new GgmlMlp(mlp.child("fc"), mlp.child("fc_proj")));
    }
  }
  for (const [path, mod] of m.namedModules()) {
    if (mod instanceof Linear && path !== "lm_head") {
      const t = exportedType(type, mod.weight.shape, `${path}.weight`);
      if (t !== "f32") m.replaceModule(path, new ConvertedInput(mod, t, false));
    }
  }
  // the lm head (logitLens multiplies by its weight directly, tied or not): convert the final norm's output
  const norm = gpt ? "ln_f" : "model.norm";
  const headName = m.namedParameters().some(([n]) => n === "lm_head.weight") ? "lm_head.weight" : gpt ? "wte.weight" : "model.embed_tokens.weight";
  const head = m.namedParameters().find(([n]) => n === headName)![1];
  const headType = exportedType(type, head.shape, headName);
  if (headType !== "f32") m.replaceModule(norm, new ConvertedInput(m.getModule(norm) as Module & Layer, headType, true));
  return m;
}
