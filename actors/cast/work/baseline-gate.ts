// Stage 0's gate, on quality, not only on bookkeeping: the base must answer the held-out
// prompts of the domains it was pretrained on better than the trivial answer does (constant
// answer, majority per domain, the pretraining lane's majority class), a split layer must be
// found, and the baseline record read back from KV must be complete. The metric `base_em_gain`
// is the base's exact match on those items minus the best trivial baseline's; the record and
// split-layer conditions are the gate's required checks. Pure: the stage work gathers the
// inputs (baseline.ts).
import { type Evidence, type LaneItem } from "../../../data/mod.js";
import type { GateCheck } from "../../director/mod.js";
import { exactMatchEvidence } from "./evidence.js";
import type { SplitLayerMap } from "./split-map.js";

export interface BaselineGateInput {
  /** Completeness checks of the stored record (baseline.ts). */
  readonly recordChecks: readonly GateCheck[];
  readonly map: SplitLayerMap;
  /** The eval lane's items, and the base's per-item hits on them. */
  readonly evalItems: readonly LaneItem[];
  readonly baseHits: Uint8Array;
  /** Domains the base was pretrained on (empty without pretraining). */
  readonly ownDomains: readonly string[];
  /** The pretraining lane's items, for the majority-class baseline. */
  readonly pretrainItems?: readonly LaneItem[];
}

export interface BaselineGate {
  readonly metric: number;
  readonly evidence: Evidence | null;
  readonly checks: GateCheck[];
  /** The eval items the metric was measured on, by domain. */
  readonly measuredOn: Record<string, number>;
}

const two = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "none");

export function judgeBaseline(o: BaselineGateInput): BaselineGate {
  const own = new Set(o.ownDomains);
  const keep = o.evalItems.map((it, i) => (own.has(it.domain) ? i : -1)).filter((i) => i >= 0);
  const measuredOn: Record<string, number> = {};
  for (const i of keep) measuredOn[o.evalItems[i]!.domain] = (measuredOn[o.evalItems[i]!.domain] ?? 0) + 1;
  const agreement = o.map.layers.map((l) => `layer ${l} ${two(o.map.overall.agreement[String(l)] ?? Number.NaN)}`).join(", ");
  const checks: GateCheck[] = [
    ...o.recordChecks,
    {
      name: "held-out prompts of the base's own domains in the eval lane",
      ok: keep.length > 0,
      detail: keep.length > 0 ? `${keep.length} of ${o.evalItems.length}` : o.ownDomains.length === 0 ? "the base was not pretrained on any domain" : `none of ${o.ownDomains.join(", ")}`,
    },
    {
      name: "a split layer found",
      ok: o.map.overall.split !== null,
      detail: `agreement with the final layer ${agreement || "not measured"}; bar ${o.map.bar}`,
    },
  ];
  if (keep.length === 0) return { metric: Number.NaN, evidence: null, checks, measuredOn };
  const items = keep.map((i) => o.evalItems[i]!);
  const evidence = exactMatchEvidence({
    measure: "held-out exact match on the base's own domains",
    score: { name: "base", hits: Uint8Array.from(keep, (i) => o.baseHits[i]!) },
    heldOut: items,
    ...(o.pretrainItems ? { train: o.pretrainItems.filter((it) => own.has(it.domain)) } : {}),
  });
  return { metric: evidence.gain, evidence, checks, measuredOn };
}
