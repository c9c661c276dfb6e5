// Stage 0's candidate split-layer map, from logit-lens agreement counts. For each candidate
// layer l (the residual stream after block l), agreement is the fraction of response tokens
// where the argmax of the logit lens at l equals the argmax of the final layer. The split
// layer is the earliest candidate whose agreement reaches the bar — overall and per domain
// (null when no candidate reaches it). Pure: the teacher counts, this aggregates.
//
// Legend: L candidate layers, B rows, T positions.
import { IGNORE_INDEX } from "../../../kernels/mod.js";

/** Agreement counts of one domain: response tokens, and per candidate layer the agreeing ones. */
export interface AgreementCounts {
  tokens: number;
  agree: number[];
}

export type CountsByDomain = Record<string, AgreementCounts>;

/**
 * Counts agreement in one batch. `lens` is i32 [L + 1, B, T] (candidates, then the final
 * layer), `targets` i32 [B, T] (IGNORE_INDEX where the loss skips: prompt and padding),
 * `domains[b]` the domain of row b (rows beyond it are padding).
 */
export function countAgreement(lens: Int32Array, targets: Int32Array, L: number, B: number, T: number, domains: readonly string[]): CountsByDomain {
  const out: CountsByDomain = {};
  const final = L * B * T;
  for (let b = 0; b < Math.min(B, domains.length); b++) {
    const c = (out[domains[b]!] ??= { tokens: 0, agree: new Array<number>(L).fill(0) });
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (targets[i] === IGNORE_INDEX) continue;
      c.tokens++;
      const f = lens[final + i];
      for (let l = 0; l < L; l++) if (lens[l * B * T + i] === f) c.agree[l]!++;
    }
  }
  return out;
}

export function mergeCounts(into: CountsByDomain, add: CountsByDomain): CountsByDomain {
  for (const [d, c] of Object.entries(add)) {
    const t = (into[d] ??= { tokens: 0, agree: new Array<number>(c.agree.length).fill(0) });
    t.tokens += c.tokens;
    c.agree.forEach((n, l) => (t.agree[l] = (t.agree[l] ?? 0) + n));
  }
  return into;
}

export interface LayerAgreement {
  /** Agreement per candidate layer, keyed by the layer index as the scenario names it. */
  readonly agreement: Record<string, number>;
  /** Earliest candidate layer reaching the bar, or null. */
  readonly split: number | null;
  readonly tokens: number;
}

export interface SplitLayerMap {
  readonly layers: readonly number[];
  /** The bar: agreement with the final layer a split candidate needs. */
  readonly bar: number;
  readonly overall: LayerAgreement;
  readonly byDomain: Record<string, LayerAgreement>;
}

function summarize(c: AgreementCounts, layers: readonly number[], bar: number): LayerAgreement {
  const agreement: Record<string, number> = {};
  let split: number | null = null;
  layers.forEach((layer, i) => {
    const a = c.tokens > 0 ? c.agree[i]! / c.tokens : Number.NaN;
    agreement[String(layer)] = a;
    if (split === null && a >= bar) split = layer;
  });
  return { agreement, split, tokens: c.tokens };
}

/** The map from counts; `layers` in the order the counts hold them (ascending). */
export function splitLayerMap(counts: CountsByDomain, layers: readonly number[], bar: number): SplitLayerMap {
  const total: AgreementCounts = { tokens: 0, agree: new Array<number>(layers.length).fill(0) };
  for (const c of Object.values(counts)) {
    total.tokens += c.tokens;
    c.agree.forEach((n, l) => (total.agree[l]! += n));
  }
  const byDomain: Record<string, LayerAgreement> = {};
  for (const d of Object.keys(counts).sort()) byDomain[d] = summarize(counts[d]!, layers, bar);
  return { layers: [...layers], bar, overall: summarize(total, layers, bar), byDomain };
}
