// The oracle's compute for one batch: the frozen stage model at full depth over the batch's
// prompts, every candidate layer decoded by the logit lens, and every response token labelled
// at the head layers (models/oracle through models/tasks/agp's labelItems): route class,
// vitality regime and their confidences. The reference norm of each head layer (the "dead"
// test's yardstick) is the median over the lane's reference batch — the same batch for every
// job and every oracle, so labels do not depend on which oracle took which batch.
// Legend: I items, n counted positions, H head layers.
import { type AgpItem, type LayeredModel, labelItems, observeBatch, referenceNorms } from "../../models/mod.js";
import { END_BYTE, packRows } from "../../data/mod.js";
import { fromArray } from "../../kernels/mod.js";
import { wireTensor } from "../../protocol/mod.js";
import type { OracleJobBody, OracleLabelsBody } from "../cast/mod.js";

/** Median norm per head layer over the counted positions of the reference items. */
export function referenceNormsOf(model: LayeredModel, items: readonly AgpItem[], candidates: readonly number[]): Map<number, number> {
  const T = items.reduce((m, it) => Math.max(m, it.ids.length), 0) - 1;
  const b = packRows(items, items.length, T, END_BYTE);
  const mask = Float32Array.from(b.targets, (t) => (t < 0 ? 0 : 1));
  const obs = observeBatch(model, fromArray(b.idx, [items.length, T]), mask, { candidates });
  return referenceNorms(obs);
}

export function labelBatch(model: LayeredModel, items: readonly AgpItem[], job: OracleJobBody, normRef: ReadonlyMap<number, number>): Omit<OracleLabelsBody, "by" | "delivery"> {
  const t = labelItems(model, items, {
    candidates: job.candidates,
    layers: job.heads,
    oracle: { klMax: job.oracle.klMax, top1: job.oracle.top1, rule: job.oracle.rule },
    normRef,
  });
  const perItem = new Int32Array(items.length);
  for (const i of t.item) perItem[i]!++;
  const H = job.heads.length;
  const n = t.n;
  const route = new Int32Array(H * n);
  const routeConfidence = new Float32Array(H * n);
  const vitality = new Int32Array(H * n);
  const vitalityConfidence = new Float32Array(H * n);
  job.heads.forEach((layer, k) => {
    const h = t.labels.heads.find((x) => x.layer === layer)!;
    route.set(h.route, k * n);
    routeConfidence.set(h.routeConfidence, k * n);
    vitality.set(h.vitality, k * n);
    vitalityConfidence.set(h.vitalityConfidence, k * n);
  });
  return {
    jobId: job.jobId,
    stage: job.stage,
    lane: job.lane,
    batch: job.batch,
    from: job.from,
    to: job.to,
    candidates: [...job.candidates],
    heads: [...job.heads],
    normRef: job.heads.map((l) => normRef.get(l)!),
    perItem: wireTensor("i32", [items.length], perItem),
    route: wireTensor("i32", [H, n], route),
    routeConfidence: wireTensor("f32", [H, n], routeConfidence),
    vitality: wireTensor("i32", [H, n], vitality),
    vitalityConfidence: wireTensor("f32", [H, n], vitalityConfidence),
    earliest: wireTensor("i32", [n], t.labels.earliestLayer),
  };
}
