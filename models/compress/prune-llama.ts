// Structured pruning of a Llama's MLP channels: channel j of block l is gate_proj row j, up_proj
// row j and down_proj column j (score ‖gate row‖·‖up row‖·‖down column‖); the masks zero all
// three (and the biases when the config has them), and dropLlamaChannels returns a Llama with a
// smaller intermediateSize computing the same function (llama.cpp's feed_forward_length).
// Heads are not pruned structurally here (grouped-query attention ties query heads to their
// key/value head). Legend: C hidden, F intermediate channels.
import { type Llama, type Tensor, tensor } from "../../kernels/mod.js";
import { createModel } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";
import { attachTokenizer, tokenizerOf } from "../spec.js";
import type { Masks, StructuredPlan } from "./prune.js";

function norms(w: Float32Array, rows: number, cols: number, byRow: boolean): number[] {
  const out = new Array<number>(byRow ? rows : cols).fill(0);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[byRow ? r : c]! += w[r * cols + c]! ** 2;
  return out.map(Math.sqrt);
}

export function llamaChannelMasks(model: Llama, channelSparsity: number): { masks: Masks; plan: StructuredPlan } {
  const c = model.config;
  const C = c.hiddenSize, F = c.intermediateSize;
  const params = new Map(model.namedParameters());
  const get = (n: string) => {
    const p = params.get(n);
    if (!p) throw new ModelConfigError("prune.targets", `no parameter "${n}"`);
    return p.f32();
  };
  const masks: Masks = new Map();
  const plan: StructuredPlan = { channels: [], heads: [] };
  const k = Math.floor(channelSparsity * F);
  for (let l = 0; l < c.numLayers; l++) {
    const pre = `model.layers.${l}.mlp`;
    const g = norms(get(`${pre}.gate_proj.weight`), F, C, true), u = norms(get(`${pre}.up_proj.weight`), F, C, true), d = norms(get(`${pre}.down_proj.weight`), C, F, false);
    const ch = g.map((x, j) => [x * u[j]! * d[j]!, j] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k).map(([, j]) => j).sort((a, b) => a - b);
    plan.channels.push(ch);
    plan.heads.push([]);
    if (!ch.length) continue;
    const rows = new Float32Array(F * C).fill(1), cols = new Float32Array(C * F).fill(1), bias = new Float32Array(F).fill(1);
    for (const j of ch) {
      rows.fill(0, j * C, (j + 1) * C);
      bias[j] = 0;
      for (let r = 0; r < C; r++) cols[r * F + j] = 0;
    }
    masks.set(`${pre}.gate_proj.weight`, rows).set(`${pre}.up_proj.weight`, Float32Array.from(rows)).set(`${pre}.down_proj.weight`, cols);
    if (c.mlpBias) masks.set(`${pre}.gate_proj.bias`, bias).set(`${pre}.up_proj.bias`, Float32Array.from(bias));
  }
  return { masks, plan };
}

export function dropLlamaChannels(model: Llama, plan: StructuredPlan): Llama {
  const c = model.config;
  const C = c.hiddenSize, F = c.intermediateSize;
  const k = plan.channels[0]?.length ?? 0;
  if (plan.channels.some((ch) => ch.length !== k)) throw new ModelConfigError("prune.plan", "every block must drop the same number of MLP channels to share one intermediateSize");
  if (k === 0) return model;
  const Fk = F - k;
  const out = createModel("llama", { ...c, intermediateSize: Fk }) as Llama;
  const src = new Map(model.namedParameters());
  const state = new Map<string, Tensor>();
  for (const [n, p] of out.namedParameters()) {
    const m = /^model\.layers\.(\d+)\.mlp\.(gate_proj|up_proj|down_proj)\.(weight|bias)$/.exec(n);
    const from = src.get(n)!.f32();
    if (!m || (m[2] === "down_proj" && m[3] === "bias")) {
      state.set(n, tensor(Float32Array.from(from), [...p.shape]));
      continue;
    }
    const drop = new Set(plan.channels[Number(m[1])]!);
    const kept = Array.from({ length: F }, (_, j) => j).filter((j) => !drop.has(j));
    const v = new Float32Array(p.size);
    if (m[2] !== "down_proj" && m[3] === "weight") kept.forEach((j, i) => v.set(from.subarray(j * C, (j + 1) * C), i * C));
    else if (m[2] !== "down_proj") kept.forEach((j, i) => (v[i] = from[j]!));
    else for (let r = 0; r < C; r++) kept.forEach((j, i) => (v[r * Fk + i] = from[r * F + j]!));
    state.set(n, tensor(v, [...p.shape]));
  }
  out.loadStateDict(state);
  out.train(model.training);
  return attachTokenizer(out, tokenizerOf(model)) as Llama;
}
