// The teacher's compute: one full-depth forward pass of a frozen model over the rows of
// several requests at once, with the residual stream captured at the requested layers, the
// logit lens applied to each, and every request's share cut back out.
// Legend: B rows, T positions, C channels, V vocab, L captured layers.
import { IGNORE_INDEX, fromArray, noGrad, serializeSafetensors, toF16 } from "../../kernels/mod.js";
import { type CausalLM, captureHidden, logitLens } from "../../models/mod.js";

export interface ForwardRequest {
  /** i32 [B, T] */
  readonly idx: Int32Array;
  /** i32 [B, T], IGNORE_INDEX where no loss is taken; null: no loss */
  readonly targets: Int32Array | null;
  readonly B: number;
}

export interface ForwardWant {
  readonly logits: boolean;
  readonly hidden: boolean;
  readonly lens: boolean;
  /** Encode each request's hidden states as f16 safetensors (for the Object Store). */
  readonly store: boolean;
}

export interface ForwardResult {
  /** f32 [B, T, V] */
  readonly logits?: Float32Array;
  /** f32 [L, B, T, C] */
  readonly hidden?: Float32Array;
  /** i32 [L + 1, B, T]: argmax of the logit lens per layer, then of the final logits */
  readonly lens?: Int32Array;
  /** f16 safetensors of this request's hidden states, one tensor per layer ("layer_<i>") */
  readonly stored?: Uint8Array;
  readonly lossSum: number;
  readonly tokens: number;
}

function argmaxRows(x: Float32Array, rows: number, V: number, out: Int32Array, at: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (x[o + v]! > x[o + best]!) best = v;
    out[at + r] = best;
  }
}

/** Masked cross-entropy sum over rows [from, from+B) and the number of targets it covers. */
function lossOf(logits: Float32Array, targets: Int32Array, from: number, B: number, T: number, V: number): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < B * T; i++) {
    const y = targets[i]!;
    if (y === IGNORE_INDEX) continue;
    const o = (from * T + i) * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[o + v]! - max);
    sum += Math.log(s) + max - logits[o + y]!;
    n++;
  }
  return { sum, n };
}

export function forwardMany(model: CausalLM, reqs: readonly ForwardRequest[], T: number, layers: readonly number[], want: ForwardWant): ForwardResult[] {
  const { vocabSize: V, hidden: C } = model.dims;
  const rows = reqs.reduce((n, r) => n + r.B, 0);
  const idx = new Int32Array(rows * T);
  let off = 0;
  for (const r of reqs) {
    idx.set(r.idx, off * T);
    off += r.B;
  }
  const L = layers.length;
  const { logits, hidden } = captureHidden(model, fromArray(idx, [rows, T]), layers);
  const all = logits.f32();
  const lens = want.lens ? new Int32Array((L + 1) * rows * T) : null;
  if (lens) {
    layers.forEach((l, i) => {
      const lensLogits = noGrad(() => logitLens(model, hidden.get(l)!, l)).f32();
      argmaxRows(lensLogits, rows * T, V, lens, i * rows * T);
    });
    argmaxRows(all, rows * T, V, lens, L * rows * T);
  }
  return splitResults(reqs, { T, V, C, layers, want }, all, (i) => hidden.get(layers[i]!)!.f32(), lens);
}

/**
 * Each request's share of one pass over all their rows: logits f32 [rows, T, V], hidden state
 * of captured layer i f32 [rows, T, C] (hiddenOf(i)), lens i32 [L + 1, rows, T].
 */
export function splitResults(
  reqs: readonly ForwardRequest[],
  dims: { readonly T: number; readonly V: number; readonly C: number; readonly layers: readonly number[]; readonly want: ForwardWant },
  all: Float32Array,
  hiddenOf: (i: number) => Float32Array,
  lens: Int32Array | null,
): ForwardResult[] {
  const { T, V, C, layers, want } = dims;
  const L = layers.length;
  const rows = reqs.reduce((n, r) => n + r.B, 0);
  const results: ForwardResult[] = [];
  let off = 0;
  for (const r of reqs) {
    const n = r.B * T;
    const loss = r.targets ? lossOf(all, r.targets, off, r.B, T, V) : { sum: 0, n: 0 };
    const res: { -readonly [K in keyof ForwardResult]: ForwardResult[K] } = { lossSum: loss.sum, tokens: loss.n };
    if (want.logits) res.logits = all.slice(off * T * V, (off * T + n) * V);
    if (want.hidden || want.store) {
      const h = new Float32Array(L * n * C);
      layers.forEach((_, i) => h.set(hiddenOf(i).subarray(off * T * C, (off * T + n) * C), i * n * C));
      if (want.hidden) res.hidden = h;
      if (want.store) {
        const tensors = layers.map((l, i) => [`layer_${l}`, toF16(fromArray(h.subarray(i * n * C, (i + 1) * n * C), [r.B, T, C]))] as const);
        res.stored = serializeSafetensors(tensors, { format: "troupe-hidden", layers: layers.join(","), shape: `${r.B},${T},${C}` });
      }
    }
    if (lens) {
      const mine = new Int32Array((L + 1) * n);
      for (let i = 0; i <= L; i++) mine.set(lens.subarray(i * rows * T + off * T, i * rows * T + off * T + n), i * n);
      res.lens = mine;
    }
    results.push(res);
    off += r.B;
  }
  return results;
}
