// How the next token is chosen from a row of logits: the repetition penalty (CTRL, as Hugging
// Face applies it: a seen token's positive logit divided by the penalty, a negative one
// multiplied), then temperature, top-k and top-p (nucleus) filtering, then a draw with the
// caller's uniform number. Greedy (temperature 0) takes the best logit after the penalty.
// Legend: V vocab.

export interface SamplingOptions {
  /** 0: greedy */
  readonly temperature: number;
  /** keep the k most likely tokens (default all) */
  readonly topK?: number;
  /** keep the smallest set of most likely tokens whose probability reaches p (default 1: all) */
  readonly topP?: number;
  /** > 1 makes tokens already in `seen` less likely (default 1: off) */
  readonly repetitionPenalty?: number;
}

/** The logits with the repetition penalty applied to every token in `seen` (a copy when it applies). */
export function penalize(logits: Float32Array, seen: Iterable<number>, penalty: number): Float32Array {
  if (penalty === 1) return logits;
  const out = Float32Array.from(logits);
  for (const t of new Set(seen)) {
    if (t < 0 || t >= out.length) continue;
    const v = out[t]!;
    out[t] = v > 0 ? v / penalty : v * penalty;
  }
  return out;
}

/** The next token: `u` uniform in [0, 1). */
export function chooseToken(logits: Float32Array, seen: Iterable<number>, o: SamplingOptions, u: number): number {
  const x = penalize(logits, seen, o.repetitionPenalty ?? 1);
  const V = x.length;
  if (o.temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (x[i]! > x[best]!) best = i;
    return best;
  }
  // most likely first; ties by id so a draw is reproducible
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => x[b]! - x[a]! || a - b);
  if (o.topK !== undefined && o.topK > 0 && o.topK < V) order = order.slice(0, o.topK);
  const max = x[order[0]!]!;
  let p = order.map((i) => Math.exp((x[i]! - max) / o.temperature));
  let z = p.reduce((a, b) => a + b, 0);
  const topP = o.topP ?? 1;
  if (topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < p.length) {
      acc += p[keep]! / z;
      keep++;
      if (acc >= topP) break;
    }
    order = order.slice(0, keep);
    p = p.slice(0, keep);
    z = p.reduce((a, b) => a + b, 0);
  }
  let acc = 0;
  for (let j = 0; j < order.length; j++) {
    acc += p[j]! / z;
    if (u < acc) return order[j]!;
  }
  return order[order.length - 1]!;
}
