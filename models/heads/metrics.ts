// Metrics of the heads, pure: accuracy, macro-F1 and the confusion matrix of a classifier,
// expected calibration error, AUROC of one class against the rest, and micro-F1 of a
// multi-label prediction. Every gate of stages 2-6 is one of these, measured on held-out data.
// Legend: N samples, K classes, P labels.

export interface ClassScores {
  readonly n: number;
  readonly accuracy: number;
  /** unweighted mean of the per-class F1 over the classes present in labels or predictions */
  readonly macroF1: number;
  /** [true][predicted] counts */
  readonly confusion: number[][];
  readonly f1: number[];
}

export function classScores(pred: ArrayLike<number>, labels: ArrayLike<number>, K: number): ClassScores {
  if (pred.length !== labels.length) throw new RangeError(`classScores: ${pred.length} predictions for ${labels.length} labels`);
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    confusion[labels[i]!]![pred[i]!]!++;
    if (pred[i] === labels[i]) right++;
  }
  const f1: number[] = [];
  let sum = 0;
  let present = 0;
  for (let k = 0; k < K; k++) {
    const tp = confusion[k]![k]!;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < K; j++) {
      if (j === k) continue;
      fp += confusion[j]![k]!;
      fn += confusion[k]![j]!;
    }
    const f = tp + fp + fn === 0 ? NaN : (2 * tp) / (2 * tp + fp + fn);
    f1.push(f);
    if (!Number.isNaN(f)) {
      sum += f;
      present++;
    }
  }
  return { n: labels.length, accuracy: labels.length ? right / labels.length : NaN, macroF1: present ? sum / present : NaN, confusion, f1 };
}

/** Row-wise argmax of [N, K] scores. */
export function argmaxOf(scores: Float32Array, N: number, K: number): Int32Array {
  const out = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (scores[r * K + k]! > scores[r * K + best]!) best = k;
    out[r] = best;
  }
  return out;
}

/** Row-wise softmax of [N, K] logits (double precision). */
export function softmaxRows(logits: Float32Array, N: number, K: number): Float32Array {
  const out = new Float32Array(N * K);
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[r * K + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(logits[r * K + k]! - m);
    for (let k = 0; k < K; k++) out[r * K + k] = Math.exp(logits[r * K + k]! - m) / z;
  }
  return out;
}

export interface Calibration {
  /** expected calibration error of the top-label confidence, equal-width bins */
  readonly ece: number;
  /** per bin: [lower edge, mean confidence, accuracy, count] (the calibration plot) */
  readonly bins: { lo: number; confidence: number; accuracy: number; count: number }[];
}

/** ECE of probabilities [N, K] against labels, with `bins` equal-width confidence bins. */
export function expectedCalibrationError(probs: Float32Array, labels: ArrayLike<number>, K: number, bins = 10): Calibration {
  const N = labels.length;
  const acc = new Array<number>(bins).fill(0);
  const cf = new Array<number>(bins).fill(0);
  const cnt = new Array<number>(bins).fill(0);
  for (let r = 0; r < N; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[r * K + k]! > probs[r * K + best]!) best = k;
    const p = probs[r * K + best]!;
    const b = Math.min(bins - 1, Math.floor(p * bins));
    cnt[b]!++;
    cf[b]! += p;
    if (best === labels[r]) acc[b]!++;
  }
  let ece = 0;
  const out: Calibration["bins"] = [];
  for (let b = 0; b < bins; b++) {
    if (cnt[b] === 0) continue;
    const c = cf[b]! / cnt[b]!;
    const a = acc[b]! / cnt[b]!;
    ece += (cnt[b]! / N) * Math.abs(a - c);
    out.push({ lo: b / bins, confidence: c, accuracy: a, count: cnt[b]! });
  }
  return { ece: N ? ece : NaN, bins: out };
}

/**
 * Area under the ROC curve of `score` for the positives (ties count one half: the
 * Mann-Whitney statistic with average ranks). NaN when either class is absent.
 */
export function auroc(score: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]!] === score[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positive[order[k]!]) { pos++; rankSum += rank; }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface MultiLabelScores {
  readonly microF1: number;
  /** mean number of active labels per sample (sparsity of the prediction) */
  readonly activePerSample: number;
  readonly perLabelF1: number[];
}

/** Multi-label scores of 0/1 predictions against 0/1 targets, both [N, P]. */
export function multiLabelScores(pred: ArrayLike<number>, target: ArrayLike<number>, N: number, P: number): MultiLabelScores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let active = 0;
  const perLabelF1: number[] = [];
  const ltp = new Array<number>(P).fill(0);
  const lfp = new Array<number>(P).fill(0);
  const lfn = new Array<number>(P).fill(0);
  for (let r = 0; r < N; r++) {
    for (let p = 0; p < P; p++) {
      const y = target[r * P + p]! > 0.5;
      const q = pred[r * P + p]! > 0.5;
      if (q) active++;
      if (q && y) { tp++; ltp[p]!++; } else if (q) { fp++; lfp[p]!++; } else if (y) { fn++; lfn[p]!++; }
    }
  }
  for (let p = 0; p < P; p++) {
    const d = 2 * ltp[p]! + lfp[p]! + lfn[p]!;
    perLabelF1.push(d === 0 ? NaN : (2 * ltp[p]!) / d);
  }
  const d = 2 * tp + fp + fn;
  return { microF1: d === 0 ? NaN : (2 * tp) / d, activePerSample: N ? active / N : NaN, perLabelF1 };
}
