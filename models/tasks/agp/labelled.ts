// Labelled token sets for the heads: the oracle's labels at each head layer and the head
// inputs (features.ts) of every counted position, made once from a frozen model. Stages 2 and
// 4 train on them; their evaluations make the same from held-out prompts, with the reference
// norms fixed at training time. Labels made elsewhere for the same items (the oracle actor's)
// can be passed in: they are used instead of labelling here, after checking that they cover
// the same positions, and how many differ from this process's own labelling is counted.
// Legend: n positions, C channels, S statistics, F = C + S features.
import { fromArray, noGrad } from "../../../kernels/mod.js";
import { StageDataError } from "../../errors.js";
import { STATS, headInput, statFeatures } from "../../heads/features.js";
import { type LayeredModel, dimsOf } from "../../layered.js";
import { type HeadLabels, type OracleConfig, type TokenLabels, resolveOracleConfig } from "../../oracle/labels.js";
import { type ObserveOptions, type Observation, concatObservations, labelObservation, observeBatch, referenceNorms } from "../../oracle/observe.js";
import { type AgpItem, batchesOf, blockFor } from "./common.js";

export interface LabelledTokens {
  readonly n: number;
  readonly layers: readonly number[];
  readonly oracle: OracleConfig;
  readonly labels: TokenLabels;
  /** per head layer: head inputs [n, F] */
  readonly features: ReadonlyMap<number, Float32Array>;
  /** per head layer: decoded entropy [n] (the entropy-only baseline's one feature) */
  readonly entropy: ReadonlyMap<number, Float32Array>;
  readonly normRef: ReadonlyMap<number, number>;
  readonly observation: Observation;
  /** per position: the item it belongs to and the response step it predicts */
  readonly item: Int32Array;
  readonly stepOf: Int32Array;
  /** with labels passed in: positions whose route or vitality label differs from labelling here */
  readonly externalMismatch: number | null;
}

/** Labels made elsewhere for the same items and head layers, item by item in order. */
export interface ExternalLabels {
  /** counted positions of each item (checked against the positions counted here) */
  readonly perItem: ArrayLike<number>;
  readonly heads: readonly HeadLabels[];
}

export interface LabelOptions {
  readonly candidates: readonly number[];
  /** head layers (residual indices), each a candidate */
  readonly layers: readonly number[];
  readonly oracle?: Partial<OracleConfig>;
  readonly decode?: ObserveOptions["decode"];
  /** fixed reference norms (evaluation: the training set's) */
  readonly normRef?: ReadonlyMap<number, number>;
  readonly keepHidden?: readonly number[];
  readonly keepLogits?: boolean;
  /** rows per forward pass (default 64) */
  readonly forwardBatch?: number;
  /** the oracle's labels for exactly these items and layers (normRef should be the oracle's) */
  readonly labels?: ExternalLabels;
}

function external(local: TokenLabels, ext: ExternalLabels, item: Int32Array, nItems: number): { labels: TokenLabels; mismatch: number } {
  const per = new Int32Array(nItems);
  for (const i of item) per[i]!++;
  if (ext.perItem.length !== nItems) throw new StageDataError(`the labels cover ${ext.perItem.length} items, the data has ${nItems}`);
  for (let i = 0; i < nItems; i++) {
    if (ext.perItem[i] !== per[i]) throw new StageDataError(`the labels give item ${i} ${ext.perItem[i]} positions, it has ${per[i]}: they were made for other items or another block`);
  }
  let mismatch = 0;
  const heads = local.heads.map((h) => {
    const e = ext.heads.find((x) => x.layer === h.layer);
    if (!e) throw new StageDataError(`the labels have no head layer ${h.layer} (they have ${ext.heads.map((x) => x.layer).join(", ") || "none"})`);
    for (const k of ["route", "routeConfidence", "vitality", "vitalityConfidence"] as const) {
      if (e[k].length !== local.n) throw new StageDataError(`the labels' ${k} at layer ${h.layer} has ${e[k].length} entries for ${local.n} positions`);
    }
    for (let r = 0; r < local.n; r++) if (e.route[r] !== h.route[r] || e.vitality[r] !== h.vitality[r]) mismatch++;
    return e;
  });
  return { labels: { ...local, heads }, mismatch };
}

export function labelItems(model: LayeredModel, items: readonly AgpItem[], o: LabelOptions): LabelledTokens {
  const T = blockFor(model, items);
  const B = o.forwardBatch ?? 64;
  const obs: Observation[] = [];
  const item: number[] = [];
  const stepOf: number[] = [];
  batchesOf(items, B, T).forEach((b, k) => {
    const ob = observeBatch(model, b.idx, b.mask, {
      candidates: o.candidates, ...(o.decode ? { decode: o.decode } : {}),
      keepHidden: [...o.layers, ...(o.keepHidden ?? [])], ...(o.keepLogits ? { keepLogits: true } : {}),
    });
    for (const p of ob.positions) {
      const r = Math.floor(p / T);
      item.push(k * B + r);
      stepOf.push((p % T) - (b.items[r]!.promptLen - 1));
    }
    obs.push(ob);
  });
  const all = concatObservations(obs);
  if (all.n === 0) throw new StageDataError("no response tokens to label (every example has an empty response?)");
  const oracle = resolveOracleConfig(o.oracle);
  const normRef = o.normRef ?? referenceNorms(all);
  const own = labelObservation(all, dimsOf(model).vocab, o.layers, oracle, normRef);
  const ext = o.labels ? external(own, o.labels, Int32Array.from(item), items.length) : null;
  const labels = ext?.labels ?? own;
  const C = dimsOf(model).channels;
  const features = new Map<number, Float32Array>();
  const entropy = new Map<number, Float32Array>();
  for (const h of o.layers) {
    const s = all.stats.get(h)!;
    const st = statFeatures(s, all.norms.get(h)!, normRef.get(h)!, dimsOf(model).vocab);
    features.set(h, noGrad(() => headInput(fromArray(all.hidden.get(h)!, [all.n, C]), fromArray(st, [all.n, STATS])).f32().slice()));
    entropy.set(h, s.entropy);
  }
  return { n: all.n, layers: [...o.layers], oracle, labels, features, entropy, normRef, observation: all, item: Int32Array.from(item), stepOf: Int32Array.from(stepOf), externalMismatch: ext?.mismatch ?? null };
}
