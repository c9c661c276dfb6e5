// What the route, vitality and semantic heads read at their layer: the residual-stream state,
// layer-normalised without parameters (so the head sees its direction, not the depth-dependent
// scale), and four statistics of the layer's decoded distribution, computed without gradient:
//   entropy / ln V,  top-1 probability,  top-1 − top-2 probability,  ln(‖h‖ / reference norm)
// A head thus has everything entropy-only routing has, and the state besides. Stage 4's route
// head also appends the semantic activations (`extra`).
// Legend: N positions, C channels, S = 4 statistics, E extra features.
import { type Tensor, concat, fromArray, layerNorm, ones, outsideWorkspace, zeros } from "../../kernels/mod.js";
import type { DecodedStats } from "../oracle/stats.js";

export const STAT_FEATURES = ["entropy", "p_top1", "margin", "log_norm"] as const;
export const STATS = STAT_FEATURES.length;

/** The statistics block [N, S] of one layer. */
export function statFeatures(stats: DecodedStats, norm: Float32Array, normRef: number, V: number): Float32Array {
  const N = stats.n;
  const out = new Float32Array(N * STATS);
  const lnV = Math.log(V);
  for (let r = 0; r < N; r++) {
    out[r * STATS] = stats.entropy[r]! / lnV;
    out[r * STATS + 1] = stats.pTop1[r]!;
    out[r * STATS + 2] = stats.margin[r]!;
    const ratio = normRef > 0 ? norm[r]! / normRef : 1;
    out[r * STATS + 3] = Math.max(-3, Math.min(3, Math.log(Math.max(ratio, 1e-6))));
  }
  return out;
}

const norms = new Map<number, { w: Tensor; b: Tensor }>();
function unitNorm(C: number): { w: Tensor; b: Tensor } {
  let n = norms.get(C);
  if (!n) {
    n = outsideWorkspace(() => ({ w: ones([C]), b: zeros([C]) }));
    norms.set(C, n);
  }
  return n;
}

/** Input features [N, C + S (+ E)]: layerNorm(h) without parameters, the statistics, extras. Differentiable in h. */
export function headInput(hidden: Tensor, stats: Tensor, extra: Tensor | null = null): Tensor {
  const C = hidden.shape[hidden.shape.length - 1]!;
  const { w, b } = unitNorm(C);
  const parts = [layerNorm(hidden, w, b), stats];
  if (extra) parts.push(extra);
  return concat(parts, -1);
}

/** A [rows, width] f32 tensor over an array (no copy). */
export function matrix(data: Float32Array, width: number): Tensor {
  return fromArray(data, [data.length / width, width]);
}
