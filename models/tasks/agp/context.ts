// Route and vitality probabilities of the heads at a layer, for any state [N, C] (no
// gradient): the transfer encoder's context, and the router's input at inference. Only what
// the layer itself knows is used (its decoded distribution and norm), never the final logits.
// Legend: N positions, C channels, V vocab.
import { type Tensor, fromArray, noGrad, softmax } from "../../../kernels/mod.js";
import type { ClassifierHead } from "../../heads/classifier.js";
import { STATS, headInput, statFeatures } from "../../heads/features.js";
import { type HeadSet, headAt } from "../../heads/registry.js";
import { type LayeredModel, dimsOf } from "../../layered.js";
import { decodedStats, rowNorms } from "../../oracle/stats.js";

/** The head input [N, F] of states [N, C] at `layer` (decoded with `logits`, or the lens). */
export function inputOf(model: LayeredModel, hidden: Tensor, normRef: number, logits?: Tensor): Tensor {
  const V = dimsOf(model).vocab;
  const C = dimsOf(model).channels;
  const N = hidden.size / C;
  return noGrad(() => {
    const h = hidden.shape.length === 2 ? hidden : fromArray(hidden.f32(), [N, C]);
    const lg = logits ?? model.logitLens(h);
    const st = statFeatures(decodedStats(lg.f32(), N, V), rowNorms(h.f32(), N, C), normRef, V);
    return headInput(h, fromArray(st, [N, STATS]));
  });
}

/** 8 when route and vitality heads without extra inputs sit at `layer` (their probabilities are a context), else 0. */
export function contextWidth(heads: HeadSet | undefined, layer: number): number {
  if (!heads) return 0;
  const route = headAt<ClassifierHead>(heads, "route", layer);
  const vit = headAt<ClassifierHead>(heads, "vitality", layer);
  return route && vit && route.spec.extra === 0 && vit.spec.extra === 0 ? 8 : 0;
}

/** softmax(route) ++ softmax(vitality) [N, 8] at `layer`, or null when either head is missing. */
export function headContext(model: LayeredModel, heads: HeadSet | undefined, layer: number, hidden: Tensor): Float32Array | null {
  if (contextWidth(heads, layer) === 0) return null;
  const route = headAt<ClassifierHead>(heads!, "route", layer)!;
  const vit = headAt<ClassifierHead>(heads!, "vitality", layer)!;
  const C = dimsOf(model).channels;
  const N = hidden.size / C;
  return noGrad(() => {
    const x = inputOf(model, hidden, route.spec.normRef);
    const a = softmax(route.forward(x)).f32();
    const b = softmax(vit.forward(x)).f32();
    const out = new Float32Array(N * 8);
    for (let r = 0; r < N; r++) {
      out.set(a.subarray(r * 4, r * 4 + 4), r * 8);
      out.set(b.subarray(r * 4, r * 4 + 4), r * 8 + 4);
    }
    return out;
  });
}
