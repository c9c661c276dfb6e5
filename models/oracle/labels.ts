// The oracle's labels, as pure functions of per-layer statistics (stats.ts). For each token
// position of a full-depth teacher run it finds the earliest acceptable candidate layer, maps
// it to a route class at each head layer, and gives a vitality regime, each with a confidence.
//
// Agreement at a candidate layer: its decoded top-1 equals the final layer's (when `top1`) and
// KL(final ‖ layer) ≤ klMax.
//
// The earliest acceptable layer, by rule (docs/agp.md, "Which layer is acceptable"):
//   "stable" (default)  the first candidate from which every later candidate agrees — "agrees
//                       from this layer on". Exiting there, and at any later candidate, gives
//                       the final answer.
//   "first"             the first candidate that agrees, even if a later one disagrees again.
//                       Earlier exits, but a token can be accepted at a layer whose own
//                       prediction is wrong.
// No acceptable candidate (only the final layer agrees) is -1.
//
// Route class at head layer h (a candidate; e = the earliest acceptable layer):
//   accept_local    e ≤ h: stop here
//   continue_local  h < e: a later local layer gets there
//   revive_local    h < e, and some candidate ≤ h agreed already: the answer was there, was lost,
//                   and comes back locally (only under "stable": under "first" e is that layer)
//   escalate        e = -1: no local candidate is acceptable; run the full depth / another host
//
// Vitality at head layer h, in this order:
//   alive   agrees at h
//   revive  does not agree at h, but an earlier candidate did
//   dead    the state is collapsed (‖h‖ < deadNorm × the layer's reference norm) or diffuse
//           (entropy ≥ deadEntropy × ln V), or the answer is absent (neither weak test holds)
//   weak    the answer is present but not decided: p(final top-1) ≥ weakP or KL ≤ weakKl
//
// Confidence is in [0.5, 1]: how far the deciding measures are from their thresholds
// (0.5 = on the boundary). Route confidence is the smallest confidence of the agreement tests
// that decided the class (at h, at e, and at the last disagreeing candidate before e).
// Legend: N positions, K candidate layers, V vocab.
import { ModelConfigError } from "../errors.js";
import type { LensStats } from "./stats.js";

export const ROUTE_CLASSES = ["accept_local", "continue_local", "revive_local", "escalate"] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];
export const Route = { accept: 0, continue: 1, revive: 2, escalate: 3 } as const;

export const VITALITY_CLASSES = ["alive", "weak", "dead", "revive"] as const;
export type VitalityClass = (typeof VITALITY_CLASSES)[number];
export const Vitality = { alive: 0, weak: 1, dead: 2, revive: 3 } as const;

export const ACCEPT_RULES = ["stable", "first"] as const;
export type AcceptRule = (typeof ACCEPT_RULES)[number];

export interface OracleConfig {
  /** Agreement bound on KL(final ‖ layer), nats (default 0.5). */
  readonly klMax: number;
  /** Agreement also needs the same top-1 token (default true). */
  readonly top1: boolean;
  readonly rule: AcceptRule;
  /** weak: the layer gives the final top-1 at least this probability (default 0.1) ... */
  readonly weakP: number;
  /** ... or KL(final ‖ layer) ≤ weakKl nats (default 2). */
  readonly weakKl: number;
  /** dead: entropy ≥ deadEntropy × ln V (default 0.9). */
  readonly deadEntropy: number;
  /** dead: ‖h‖ < deadNorm × the layer's reference norm (default 0.25). */
  readonly deadNorm: number;
}

export const DEFAULT_ORACLE: OracleConfig = { klMax: 0.5, top1: true, rule: "stable", weakP: 0.1, weakKl: 2, deadEntropy: 0.9, deadNorm: 0.25 };

function positive(key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new ModelConfigError(`oracle.${key}`, `expected a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** Fills defaults and checks every field (a ModelConfigError names the bad one). */
export function resolveOracleConfig(raw: Partial<OracleConfig> = {}): OracleConfig {
  const c = { ...DEFAULT_ORACLE, ...raw };
  if (!(ACCEPT_RULES as readonly string[]).includes(c.rule)) throw new ModelConfigError("oracle.rule", `expected one of ${ACCEPT_RULES.join(", ")}, got ${JSON.stringify(c.rule)}`);
  if (typeof c.top1 !== "boolean") throw new ModelConfigError("oracle.top1", `expected true or false, got ${JSON.stringify(c.top1)}`);
  positive("klMax", c.klMax);
  positive("weakKl", c.weakKl);
  positive("weakP", c.weakP);
  if (c.weakP >= 1) throw new ModelConfigError("oracle.weakP", `expected a probability below 1, got ${c.weakP}`);
  positive("deadEntropy", c.deadEntropy);
  if (c.deadEntropy > 1) throw new ModelConfigError("oracle.deadEntropy", `expected a fraction of ln V in (0, 1], got ${c.deadEntropy}`);
  positive("deadNorm", c.deadNorm);
  return c;
}

const conf = (distance: number) => 0.5 + 0.5 * Math.min(1, Math.max(0, distance));

/** Agreement of one candidate layer with the final one, and how sure that verdict is. */
export function agreement(s: LensStats, finalTop1: Int32Array, cfg: OracleConfig): { agree: Uint8Array; confidence: Float32Array } {
  const agree = new Uint8Array(s.n);
  const confidence = new Float32Array(s.n);
  for (let r = 0; r < s.n; r++) {
    const same = s.top1[r] === finalTop1[r];
    if (cfg.top1 && !same) {
      // another token wins: sure in proportion to how far it is ahead of the final's token
      confidence[r] = conf((s.pTop1[r]! - s.pFinal[r]!) / Math.max(s.pTop1[r]!, 1e-12));
      continue;
    }
    const ok = s.kl[r]! <= cfg.klMax;
    agree[r] = ok ? 1 : 0;
    confidence[r] = conf(Math.abs(s.kl[r]! - cfg.klMax) / cfg.klMax);
  }
  return { agree, confidence };
}

/** First agreeing candidate, first from which all agree, and the one the rule picks (-1 = none), as candidate positions. */
export interface Earliest {
  readonly first: Int32Array;
  readonly stable: Int32Array;
  readonly earliest: Int32Array;
}

export function earliestAcceptable(agree: readonly Uint8Array[], rule: AcceptRule): Earliest {
  const K = agree.length;
  const N = K ? agree[0]!.length : 0;
  const first = new Int32Array(N).fill(-1);
  const stable = new Int32Array(N).fill(-1);
  for (let r = 0; r < N; r++) {
    for (let k = 0; k < K; k++) if (agree[k]![r]) { first[r] = k; break; }
    for (let k = K - 1; k >= 0 && agree[k]![r]; k--) stable[r] = k;
  }
  return { first, stable, earliest: rule === "stable" ? stable : first };
}

/** One candidate layer as the labeler sees it. */
export interface CandidateView {
  /** residual-stream index */
  readonly layer: number;
  readonly stats: LensStats;
  /** ‖h‖ per position */
  readonly norm: Float32Array;
  /** the layer's reference norm for the collapse test (default: the median of `norm`) */
  readonly normRef?: number;
}

export interface HeadLabels {
  /** residual-stream index the head reads */
  readonly layer: number;
  readonly route: Int32Array;
  readonly routeConfidence: Float32Array;
  readonly vitality: Int32Array;
  readonly vitalityConfidence: Float32Array;
}

export interface TokenLabels {
  readonly n: number;
  /** candidate layers (residual indices), ascending */
  readonly layers: readonly number[];
  readonly agree: readonly Uint8Array[];
  /** earliest acceptable layer by the rule as a residual index, -1 = only the final layer */
  readonly earliestLayer: Int32Array;
  readonly positions: Earliest;
  readonly heads: readonly HeadLabels[];
}

export function median(xs: Float32Array): number {
  if (xs.length === 0) return NaN;
  const s = Float32Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Labels N positions from the candidate layers' statistics (ascending layers) and the final
 * layer's top-1. `heads` are residual indices, each one of the candidates.
 */
export function labelTokens(views: readonly CandidateView[], finalTop1: Int32Array, V: number, heads: readonly number[], config: OracleConfig): TokenLabels {
  const layers = views.map((v) => v.layer);
  for (let k = 1; k < layers.length; k++) if (!(layers[k]! > layers[k - 1]!)) throw new ModelConfigError("oracle.layers", `candidate layers must ascend, got [${layers.join(", ")}]`);
  const N = finalTop1.length;
  for (const v of views) if (v.stats.n !== N || v.norm.length !== N) throw new ModelConfigError("oracle.views", `layer ${v.layer} has ${v.stats.n} positions, the final layer ${N}`);
  const ag = views.map((v) => agreement(v.stats, finalTop1, config));
  const agree = ag.map((a) => a.agree);
  const pos = earliestAcceptable(agree, config.rule);
  const earliestLayer = Int32Array.from(pos.earliest, (k) => (k < 0 ? -1 : layers[k]!));
  const lnV = Math.log(V);
  const out: HeadLabels[] = heads.map((h) => {
    const k = layers.indexOf(h);
    if (k < 0) throw new ModelConfigError("oracle.heads", `head layer ${h} is not a candidate layer [${layers.join(", ")}]`);
    const view = views[k]!;
    const ref = view.normRef ?? median(view.norm);
    const route = new Int32Array(N);
    const routeConfidence = new Float32Array(N);
    const vitality = new Int32Array(N);
    const vitalityConfidence = new Float32Array(N);
    for (let r = 0; r < N; r++) {
      const e = pos.earliest[r]!;
      let earlier = -1; // an agreeing candidate at or before h
      for (let j = 0; j <= k; j++) if (agree[j]![r]) { earlier = j; break; }
      // the agreement tests that decided the class: at h, at e, at the last disagreeing one before e
      let c = ag[k]!.confidence[r]!;
      if (e >= 0) c = Math.min(c, ag[e]!.confidence[r]!);
      const before = e < 0 ? views.length - 1 : e - 1;
      if (before >= 0 && before !== k) c = Math.min(c, ag[before]!.confidence[r]!);
      if (e >= 0 && e <= k) route[r] = Route.accept;
      else if (e < 0) route[r] = Route.escalate;
      else route[r] = earlier >= 0 ? Route.revive : Route.continue;
      routeConfidence[r] = c;

      const s = view.stats;
      const hk = ag[k]!.confidence[r]!;
      let priorAgree = -1;
      for (let j = 0; j < k; j++) if (agree[j]![r]) { priorAgree = j; break; }
      const normRatio = ref > 0 ? view.norm[r]! / ref : 1;
      const diffuse = s.entropy[r]! / lnV;
      if (agree[k]![r]) {
        vitality[r] = Vitality.alive;
        vitalityConfidence[r] = hk;
      } else if (priorAgree >= 0) {
        vitality[r] = Vitality.revive;
        vitalityConfidence[r] = Math.min(hk, ag[priorAgree]!.confidence[r]!);
      } else if (normRatio < config.deadNorm) {
        vitality[r] = Vitality.dead;
        vitalityConfidence[r] = conf((config.deadNorm - normRatio) / config.deadNorm);
      } else if (diffuse >= config.deadEntropy) {
        vitality[r] = Vitality.dead;
        vitalityConfidence[r] = conf((diffuse - config.deadEntropy) / Math.max(1e-6, 1 - config.deadEntropy));
      } else {
        const byP = (s.pFinal[r]! - config.weakP) / config.weakP;
        const byKl = (config.weakKl - s.kl[r]!) / config.weakKl;
        const d = Math.max(byP, byKl); // > 0: weak; ≤ 0: dead
        vitality[r] = d >= 0 ? Vitality.weak : Vitality.dead;
        vitalityConfidence[r] = Math.min(hk, conf(Math.abs(d)));
      }
    }
    return { layer: h, route, routeConfidence, vitality, vitalityConfidence };
  });
  return { n: N, layers, agree, earliestLayer, positions: pos, heads: out };
}

/** Class counts of a label array (length = number of classes). */
export function classCounts(labels: Int32Array, classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}
