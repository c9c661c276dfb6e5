// The baselines a head has to beat, fitted on the same training labels as the head:
//   majority class      the best constant answer
//   entropy-only        one feature, the entropy of the layer's decoded distribution: equal-count
//                       entropy bins, each predicting its majority training class (a
//                       non-parametric 1-D classifier, as strong as any threshold rule on entropy)
// Legend: N samples, K classes.
import { ModelConfigError } from "../errors.js";

export interface FittedBaseline {
  readonly name: string;
  predict(feature: ArrayLike<number>): Int32Array;
}

/** The most frequent training class (ties: the lower class index). */
export function majorityClass(labels: ArrayLike<number>, K: number): FittedBaseline & { readonly cls: number } {
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  let cls = 0;
  for (let k = 1; k < K; k++) if (counts[k]! > counts[cls]!) cls = k;
  return { name: "majority class", cls, predict: (f) => new Int32Array(f.length).fill(cls) };
}

/**
 * Entropy-only routing: `bins` equal-count bins of the training entropies; a bin predicts its
 * majority class. Values outside the training range fall in the first or last bin.
 */
export function fitEntropyRouting(entropy: ArrayLike<number>, labels: ArrayLike<number>, K: number, bins = 16): FittedBaseline & { readonly edges: number[]; readonly classes: number[] } {
  const N = entropy.length;
  if (N === 0) throw new ModelConfigError("baseline.entropy", "no training samples to fit entropy-only routing on");
  if (labels.length !== N) throw new ModelConfigError("baseline.entropy", `${N} entropies for ${labels.length} labels`);
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => entropy[a]! - entropy[b]!);
  const nb = Math.max(1, Math.min(bins, N));
  const edges: number[] = []; // upper edges of bins 0..nb-2
  for (let b = 1; b < nb; b++) edges.push(entropy[order[Math.floor((b * N) / nb)]!]!);
  const binOf = (e: number) => {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e < edges[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const counts = Array.from({ length: nb }, () => new Array<number>(K).fill(0));
  const all = new Array<number>(K).fill(0);
  for (let i = 0; i < N; i++) {
    counts[binOf(entropy[i]!)]![labels[i]!]!++;
    all[labels[i]!]!++;
  }
  const argmax = (c: number[]) => c.reduce((best, v, k) => (v > c[best]! ? k : best), 0);
  const fallback = argmax(all);
  const classes = counts.map((c) => (c.some((v) => v > 0) ? argmax(c) : fallback));
  return {
    name: "entropy-only routing",
    edges,
    classes,
    predict: (f) => Int32Array.from({ length: f.length }, (_, i) => classes[binOf(f[i]!)]!),
  };
}
