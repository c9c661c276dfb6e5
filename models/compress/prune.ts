// Pruning: masks over weights, kept through training (re-applied after every optimizer step)
// and checkpoints (a masks file beside the model), raised on a cubic schedule
//   s(t) = s_f + (s_i − s_f) · (1 − (t − t₀)/(t₁ − t₀))³   (Zhu & Gupta 2017)
// Unstructured: the smallest |w| of each target matrix. Structured: whole MLP hidden channels
// (score ‖fc row‖·‖fc_proj column‖) or attention heads (score ‖v rows‖·‖proj columns‖ of the
// head). Export: pruned MLP channels are dropped (a GPT with fewer mlpHidden channels — the
// same function); pruned heads stay as zeros (llama.cpp's gpt2 ties the head size to
// n_embd / n_head, so a head cannot be dropped from the file) and unstructured zeros stay dense.
// Legend: C channels, F MLP hidden channels, H heads, hs head size.
import { readFileSync } from "node:fs";
import { type GPT, type Llama, type Tensor, noGrad, parseSafetensors, serializeSafetensors, tensor } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { ModelConfigError } from "../errors.js";
import { createGpt } from "../gpt.js";
import { attachTokenizer, tokenizerOf } from "../spec.js";
import { dropLlamaChannels, llamaChannelMasks } from "./prune-llama.js";

export interface CubicSchedule {
  /** Sparsity at `begin` (default 0). */
  readonly initial?: number;
  /** Sparsity reached at `end`. */
  readonly final: number;
  readonly begin: number;
  readonly end: number;
}

export function cubicSparsity(step: number, s: CubicSchedule): number {
  const si = s.initial ?? 0;
  if (!(s.final >= 0 && s.final < 1) || !(si >= 0 && si <= s.final) || !(s.end > s.begin)) {
    throw new ModelConfigError("prune.schedule", `expected 0 <= initial <= final < 1 and begin < end, got ${JSON.stringify(s)}`);
  }
  if (step <= s.begin) return si;
  if (step >= s.end) return s.final;
  return s.final + (si - s.final) * (1 - (step - s.begin) / (s.end - s.begin)) ** 3;
}

/** Masks by parameter name (1 keeps, 0 prunes), same size as the parameter. */
export type Masks = Map<string, Float32Array>;

const param = (model: CausalLM, name: string): Tensor => {
  const p = model.namedParameters().find(([n]) => n === name)?.[1];
  if (!p) throw new ModelConfigError("prune.targets", `no parameter "${name}"`);
  return p;
};

/** Zeroes every masked weight (after each optimizer step, and once when masks change). */
export function applyMasks(model: CausalLM, masks: Masks): void {
  noGrad(() => {
    for (const [name, m] of masks) {
      const d = param(model, name).f32();
      for (let i = 0; i < d.length; i++) if (m[i] === 0) d[i] = 0;
    }
  });
}

/** Fraction of zeros the masks impose over their tensors. */
export function maskSparsity(masks: Masks): number {
  let zeros = 0, n = 0;
  for (const m of masks.values()) {
    n += m.length;
    for (const v of m) if (v === 0) zeros++;
  }
  return n === 0 ? 0 : zeros / n;
}

/** Unstructured magnitude masks: each target matrix keeps its largest |w| (default targets: every block matrix). */
export function magnitudeMasks(model: CausalLM, sparsity: number, targets?: readonly string[]): Masks {
  if (!(sparsity >= 0 && sparsity < 1)) throw new ModelConfigError("prune.sparsity", `expected a number in [0, 1), got ${sparsity}`);
  const block = /^(h\.\d+\.(qkv|proj|fc|fc_proj)|model\.layers\.\d+\.(self_attn|mlp)\.[a-z]+_proj)\.weight$/;
  const names = targets ?? model.namedParameters().filter(([n, p]) => block.test(n) && p.shape.length === 2).map(([n]) => n);
  const masks: Masks = new Map();
  for (const name of names) {
    const w = param(model, name).f32();
    const k = Math.floor(sparsity * w.length);
    const order = Array.from(w.keys()).sort((a, b) => Math.abs(w[a]!) - Math.abs(w[b]!) || a - b);
    const m = new Float32Array(w.length).fill(1);
    for (let i = 0; i < k; i++) m[order[i]!] = 0;
    masks.set(name, m);
  }
  return masks;
}

function rowNorm(w: Float32Array, row: number, cols: number): number {
  let s = 0;
  for (let c = 0; c < cols; c++) s += w[row * cols + c]! ** 2;
  return Math.sqrt(s);
}

function colNorm(w: Float32Array, col: number, rows: number, cols: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) s += w[r * cols + col]! ** 2;
  return Math.sqrt(s);
}

/** The pruned units of a structured mask set, per block: MLP channels and heads. */
export interface StructuredPlan {
  readonly channels: number[][];
  readonly heads: number[][];
}

/**
 * Structured masks: in every block the `channelSparsity` fraction of MLP hidden channels and the
 * `headSparsity` fraction of heads with the smallest scores.
 */
export function structuredMasks(m: CausalLM, options: { channelSparsity?: number; headSparsity?: number }): { masks: Masks; plan: StructuredPlan } {
  const cs = options.channelSparsity ?? 0, hsp = options.headSparsity ?? 0;
  for (const [k, v] of [["channelSparsity", cs], ["headSparsity", hsp]] as const) {
    if (!(v >= 0 && v < 1)) throw new ModelConfigError(`prune.${k}`, `expected a number in [0, 1), got ${v}`);
  }
  if (m.arch === "llama") {
    if (hsp > 0) throw new ModelConfigError("prune.headSparsity", "head pruning is implemented for the GPT only (a Llama's grouped-query heads share key/value heads); prune MLP channels");
    return llamaChannelMasks(m as Llama, cs);
  }
  if (m.arch !== "gpt2") throw new ModelConfigError("prune", `structured pruning is not implemented for ${m.arch}`);
  const model = m as GPT;
  const { nEmbd: C, nHead: H, nLayer: L } = model.config;
  const F = model.config.mlpHidden ?? 4 * C;
  const hs = C / H;
  const masks: Masks = new Map();
  const plan: StructuredPlan = { channels: [], heads: [] };
  const smallest = (scores: number[], k: number) => scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i).sort((a, b) => a - b);
  for (let l = 0; l < L; l++) {
    const fc = param(model, `h.${l}.fc.weight`).f32(), fp = param(model, `h.${l}.fc_proj.weight`).f32();
    const ch = smallest(Array.from({ length: F }, (_, j) => rowNorm(fc, j, C) * colNorm(fp, j, C, F)), Math.floor(cs * F));
    plan.channels.push(ch);
    if (ch.length) {
      const mFc = new Float32Array(F * C).fill(1), mB = new Float32Array(F).fill(1), mP = new Float32Array(C * F).fill(1);
      for (const j of ch) {
        mFc.fill(0, j * C, (j + 1) * C);
        mB[j] = 0;
        for (let r = 0; r < C; r++) mP[r * F + j] = 0;
      }
      masks.set(`h.${l}.fc.weight`, mFc).set(`h.${l}.fc.bias`, mB).set(`h.${l}.fc_proj.weight`, mP);
    }
    const qkv = param(model, `h.${l}.qkv.weight`).f32(), pr = param(model, `h.${l}.proj.weight`).f32();
    const headScore = (h: number) => {
      let v = 0, p = 0;
      for (let d = 0; d < hs; d++) {
        v += rowNorm(qkv, 2 * C + h * hs + d, C) ** 2;
        p += colNorm(pr, h * hs + d, C, C) ** 2;
      }
      return Math.sqrt(v) * Math.sqrt(p);
    };
    const hd = smallest(Array.from({ length: H }, (_, h) => headScore(h)), Math.floor(hsp * H));
    plan.heads.push(hd);
    if (hd.length) {
      const mQ = new Float32Array(3 * C * C).fill(1), mQb = new Float32Array(3 * C).fill(1), mP = new Float32Array(C * C).fill(1);
      for (const h of hd) {
        for (const part of [0, 1, 2]) {
          const r0 = part * C + h * hs;
          mQ.fill(0, r0 * C, (r0 + hs) * C);
          mQb.fill(0, r0, r0 + hs);
        }
        for (let r = 0; r < C; r++) for (let d = 0; d < hs; d++) mP[r * C + h * hs + d] = 0;
      }
      masks.set(`h.${l}.qkv.weight`, mQ).set(`h.${l}.qkv.bias`, mQb).set(`h.${l}.proj.weight`, mP);
    }
  }
  return { masks, plan };
}

/** Masks as a safetensors file ("mask.<param>" tensors) with their metadata. */
export function serializeMasks(masks: Masks, metadata: Record<string, string> = {}): Uint8Array {
  return serializeSafetensors([...masks].map(([n, m]) => [`mask.${n}`, tensor(m, [m.length])] as [string, Tensor]), { magic: "troupe-masks", version: "1", ...metadata });
}

export function readMasks(path: string): { masks: Masks; metadata: Record<string, string> } {
  const f = parseSafetensors(readFileSync(path), path);
  if (f.metadata.magic !== "troupe-masks") throw new ModelConfigError("prune.masks", `${path} is not a troupe masks file`);
  const masks: Masks = new Map();
  for (const [n, t] of f.tensors) masks.set(n.replace(/^mask\./, ""), Float32Array.from(t.f32()));
  return { masks, metadata: f.metadata };
}

/**
 * The same function with the pruned MLP channels removed: a GPT whose blocks have F − k hidden
 * channels, the kept rows of fc and columns of fc_proj copied. Every block must drop as many.
 */
export function dropPrunedChannels<M extends CausalLM>(m: M, plan: StructuredPlan): M {
  if (m.arch === "llama") return dropLlamaChannels(m as unknown as Llama, plan) as unknown as M;
  const model = m as unknown as GPT;
  const C = model.config.nEmbd;
  const F = model.config.mlpHidden ?? 4 * C;
  const k = plan.channels[0]?.length ?? 0;
  if (plan.channels.some((c) => c.length !== k)) throw new ModelConfigError("prune.plan", "every block must drop the same number of MLP channels to share one mlpHidden");
  if (k === 0) return m;
  const Fk = F - k;
  const out = createGpt({ ...model.config, mlpHidden: Fk });
  const src = new Map(model.namedParameters());
  const state = new Map<string, Tensor>();
  for (const [n, p] of out.namedParameters()) {
    const m = /^h\.(\d+)\.(fc|fc_proj)\.(weight|bias)$/.exec(n);
    const from = src.get(n)!.f32();
    if (!m) {
      state.set(n, tensor(Float32Array.from(from), [...p.shape]));
      continue;
    }
    const drop = new Set(plan.channels[Number(m[1])]!);
    const kept = Array.from({ length: F }, (_, j) => j).filter((j) => !drop.has(j));
    const v = new Float32Array(p.size);
    if (m[2] === "fc" && m[3] === "weight") kept.forEach((j, i) => v.set(from.subarray(j * C, (j + 1) * C), i * C));
    else if (m[2] === "fc") kept.forEach((j, i) => (v[i] = from[j]!));
    else if (m[3] === "weight") for (let r = 0; r < C; r++) kept.forEach((j, i) => (v[r * Fk + i] = from[r * F + j]!));
    else v.set(from);
    state.set(n, tensor(v, [...p.shape]));
  }
  out.loadStateDict(state);
  out.train(model.training);
  return attachTokenizer(out, tokenizerOf(model)) as unknown as M;
}
