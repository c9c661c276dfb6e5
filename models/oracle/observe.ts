// Running a model for the oracle: one full-depth forward pass of a batch, each candidate layer
// decoded (the logit lens, or a trained translator such as the depth residual: a tuned lens),
// and the statistics of the counted positions kept. Observations of several batches
// concatenate, so labels are made over a whole data set at once (one reference norm per layer).
// Legend: B batch, T time, n counted positions, C channels, V vocab.
import { type Tensor, clone, noGrad } from "../../kernels/mod.js";
import { ModelConfigError } from "../errors.js";
import { type LayeredModel, checkIndices, dimsOf, inEval } from "../layered.js";
import { type CandidateView, type OracleConfig, type TokenLabels, labelTokens, median, resolveOracleConfig } from "./labels.js";
import { type LensStats, argmaxRows, gatherRows, lensStats, rowNorms } from "./stats.js";

export interface ObserveOptions {
  /** candidate layers (residual indices below L), ascending after checking */
  readonly candidates: readonly number[];
  /** decodes the state at `layer` given every captured state (default: the logit lens) */
  readonly decode?: (layer: number, hidden: readonly (Tensor | undefined)[]) => Tensor;
  /** states to keep as [n, C] rows besides the candidates' (e.g. every index for the depth residual) */
  readonly keepHidden?: readonly number[];
  /** keep the final logits rows [n, V] */
  readonly keepLogits?: boolean;
}

export interface Observation {
  readonly n: number;
  /** flat positions b·T + t of the counted rows, per batch (offset by the batch's start when concatenated) */
  readonly positions: Int32Array;
  readonly finalTop1: Int32Array;
  readonly stats: Map<number, LensStats>;
  readonly norms: Map<number, Float32Array>;
  readonly hidden: Map<number, Float32Array>;
  readonly finalLogits: Float32Array | null;
}

/** The counted positions of a mask [B·T]. */
export function maskPositions(mask: ArrayLike<number>): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return Int32Array.from(out);
}

/** One batch idx [B, T] through the model; statistics of the positions where mask is set. */
export function observeBatch(model: LayeredModel, idx: Tensor, mask: ArrayLike<number>, o: ObserveOptions): Observation {
  const L = dimsOf(model).layers;
  const cands = checkIndices(model, "oracle.candidates", o.candidates, 0, L - 1);
  const keep = [...new Set([...cands, ...(o.keepHidden ?? [])])].sort((a, b) => a - b);
  checkIndices(model, "oracle.keepHidden", keep);
  const [B, T] = [idx.shape[0]!, idx.shape[1]!];
  if (mask.length !== B * T) throw new ModelConfigError("oracle.mask", `the mask has ${mask.length} entries for a [${B}, ${T}] batch`);
  const rows = maskPositions(mask);
  const V = dimsOf(model).vocab;
  const C = dimsOf(model).channels;
  return inEval(model, () => noGrad(() => {
    const out = model.forwardWithHidden(idx, { capture: o.decode ? "all" : keep });
    const final = gatherRows(out.logits.f32(), V, rows);
    const finalTop1 = argmaxRows(final, rows.length, V);
    const stats = new Map<number, LensStats>();
    const norms = new Map<number, Float32Array>();
    const hidden = new Map<number, Float32Array>();
    for (const l of keep) hidden.set(l, gatherRows(clone(out.hidden[l]!).f32(), C, rows));
    for (const l of cands) {
      const decoded = o.decode ? o.decode(l, out.hidden) : model.logitLens(out.hidden[l]!);
      stats.set(l, lensStats(gatherRows(decoded.f32(), V, rows), final, rows.length, V));
      norms.set(l, rowNorms(hidden.get(l)!, rows.length, C));
    }
    return { n: rows.length, positions: rows, finalTop1, stats, norms, hidden, finalLogits: o.keepLogits ? final : null };
  }));
}

function cat<A extends Float32Array | Int32Array>(parts: readonly A[], make: (n: number) => A): A {
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

/** Observations of several batches as one (positions keep their per-batch values). */
export function concatObservations(obs: readonly Observation[]): Observation {
  if (obs.length === 0) throw new ModelConfigError("oracle.observations", "nothing observed");
  const first = obs[0]!;
  const f32 = (n: number) => new Float32Array(n);
  const i32 = (n: number) => new Int32Array(n);
  const stats = new Map<number, LensStats>();
  for (const l of first.stats.keys()) {
    const ss = obs.map((o) => o.stats.get(l)!);
    stats.set(l, {
      n: ss.reduce((n, s) => n + s.n, 0),
      top1: cat(ss.map((s) => s.top1), i32), kl: cat(ss.map((s) => s.kl), f32), entropy: cat(ss.map((s) => s.entropy), f32),
      pTop1: cat(ss.map((s) => s.pTop1), f32), margin: cat(ss.map((s) => s.margin), f32), pFinal: cat(ss.map((s) => s.pFinal), f32),
    });
  }
  const mapCat = (get: (o: Observation) => Map<number, Float32Array>) => new Map([...get(first).keys()].map((l) => [l, cat(obs.map((o) => get(o).get(l)!), f32)]));
  return {
    n: obs.reduce((n, o) => n + o.n, 0),
    positions: cat(obs.map((o) => o.positions), i32),
    finalTop1: cat(obs.map((o) => o.finalTop1), i32),
    stats,
    norms: mapCat((o) => o.norms),
    hidden: mapCat((o) => o.hidden),
    finalLogits: first.finalLogits ? cat(obs.map((o) => o.finalLogits!), f32) : null,
  };
}

/** Reference norms per candidate layer: the median over the observation. */
export function referenceNorms(obs: Observation): Map<number, number> {
  return new Map([...obs.norms].map(([l, n]) => [l, median(n)]));
}

/** Labels an observation; `normRef` fixes each layer's reference norm (default: its median here). */
export function labelObservation(obs: Observation, V: number, heads: readonly number[], config: Partial<OracleConfig> = {}, normRef?: ReadonlyMap<number, number>): TokenLabels {
  const cfg = resolveOracleConfig(config);
  const views: CandidateView[] = [...obs.stats.keys()].sort((a, b) => a - b).map((layer) => ({
    layer, stats: obs.stats.get(layer)!, norm: obs.norms.get(layer)!, ...(normRef?.has(layer) ? { normRef: normRef.get(layer)! } : {}),
  }));
  return labelTokens(views, obs.finalTop1, V, heads, cfg);
}
