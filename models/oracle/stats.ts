// Per-position statistics of a decoded layer against the final logits: what the oracle's
// labels and the heads' input features are made of. Pure functions over row-major logits
// (N rows of V), computed in double precision in a fixed order, so a label never depends on
// the thread count.
// Legend: N positions (rows), V vocab.

/** What a decoded layer says about itself (no final layer needed: usable at inference). */
export interface DecodedStats {
  readonly n: number;
  /** argmax of the layer's distribution */
  readonly top1: Int32Array;
  /** entropy of the layer's distribution, nats */
  readonly entropy: Float32Array;
  /** the layer's probability of its own top-1 token */
  readonly pTop1: Float32Array;
  /** top-1 minus top-2 probability of the layer */
  readonly margin: Float32Array;
}

/** One decoded layer (logit lens or a trained translator) compared with the final layer. */
export interface LensStats extends DecodedStats {
  /** KL(final ‖ layer) in nats: the agreement gap */
  readonly kl: Float32Array;
  /** the layer's probability of the final layer's top-1 token */
  readonly pFinal: Float32Array;
}

/** The final layer's argmax per row. */
export function argmaxRows(logits: Float32Array, N: number, V: number): Int32Array {
  const out = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    const o = r * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[o + v]! > logits[o + best]!) best = v;
    out[r] = best;
  }
  return out;
}

function logSumExp(x: Float32Array, o: number, V: number): number {
  let m = -Infinity;
  for (let v = 0; v < V; v++) if (x[o + v]! > m) m = x[o + v]!;
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(x[o + v]! - m);
  return m + Math.log(s);
}

/** Statistics of `layer` logits against `final` logits, both [N, V]. */
export function lensStats(layer: Float32Array, final: Float32Array, N: number, V: number): LensStats {
  if (layer.length < N * V || final.length < N * V) throw new RangeError(`lensStats: expected ${N}x${V} logits, got ${layer.length} and ${final.length} values`);
  const finalTop = argmaxRows(final, N, V);
  const s = {
    n: N, top1: new Int32Array(N), kl: new Float32Array(N), entropy: new Float32Array(N),
    pTop1: new Float32Array(N), margin: new Float32Array(N), pFinal: new Float32Array(N),
  };
  for (let r = 0; r < N; r++) {
    const o = r * V;
    const lf = logSumExp(final, o, V);
    const ll = logSumExp(layer, o, V);
    let kl = 0;
    let h = 0;
    let best = 0;
    let p1 = -1;
    let p2 = -1;
    for (let v = 0; v < V; v++) {
      const lpf = final[o + v]! - lf;
      const lpl = layer[o + v]! - ll;
      const pf = Math.exp(lpf);
      const pl = Math.exp(lpl);
      if (pf > 0) kl += pf * (lpf - lpl);
      if (pl > 0) h -= pl * lpl;
      if (pl > p1) {
        p2 = p1;
        p1 = pl;
        best = v;
      } else if (pl > p2) p2 = pl;
    }
    s.top1[r] = best;
    s.kl[r] = Math.max(0, kl);
    s.entropy[r] = Math.max(0, h);
    s.pTop1[r] = p1;
    s.margin[r] = p1 - Math.max(0, p2);
    s.pFinal[r] = Math.exp(layer[o + finalTop[r]!]! - ll);
  }
  return s;
}

/** Statistics of a decoded layer [N, V] on its own. */
export function decodedStats(layer: Float32Array, N: number, V: number): DecodedStats {
  if (layer.length < N * V) throw new RangeError(`decodedStats: expected ${N}x${V} logits, got ${layer.length} values`);
  const s = { n: N, top1: new Int32Array(N), entropy: new Float32Array(N), pTop1: new Float32Array(N), margin: new Float32Array(N) };
  for (let r = 0; r < N; r++) {
    const o = r * V;
    const ll = logSumExp(layer, o, V);
    let h = 0;
    let best = 0;
    let p1 = -1;
    let p2 = -1;
    for (let v = 0; v < V; v++) {
      const lpl = layer[o + v]! - ll;
      const pl = Math.exp(lpl);
      if (pl > 0) h -= pl * lpl;
      if (pl > p1) {
        p2 = p1;
        p1 = pl;
        best = v;
      } else if (pl > p2) p2 = pl;
    }
    s.top1[r] = best;
    s.entropy[r] = Math.max(0, h);
    s.pTop1[r] = p1;
    s.margin[r] = p1 - Math.max(0, p2);
  }
  return s;
}

/** L2 norm of each row of a [N, C] state. */
export function rowNorms(hidden: Float32Array, N: number, C: number): Float32Array {
  const out = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += hidden[r * C + c]! ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** The rows `rows` of a row-major [*, width] array, packed. */
export function gatherRows(data: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
  return out;
}
