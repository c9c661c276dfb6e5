// What stages 2-6 measured, lifted out of their attempts' evaluator details into the report's
// own sections: route accuracy against the entropy baseline and the majority class (stage 2),
// the vitality head's calibration (stage 2), the transfer fidelity table per codec and split
// layer (stage 5), and what the curriculum bought — routed inference against full depth on
// held-out prompts, measured in the same run (stage 6: after the joint finetune when it passed,
// the stage-5 weights it rolled back to otherwise). Pure readers of the report's stages: a
// stage that did not run, or ran without these details, gives null / [].
import type { JsonObject } from "../actors/director/mod.js";
import type { ArchitectureRow, CalibrationRow, RouteRow, StageReport, TransferRow } from "./model.js";

type J = Record<string, unknown>;
const obj = (v: unknown): J | null => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as J) : null);
const numOr = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The details of the attempt a stage ended on: the passing one, else the last measured. */
function finalDetails(stages: readonly StageReport[], stage: number): JsonObject | null {
  const s = stages.find((x) => x.stage === stage);
  if (!s) return null;
  const measured = s.attempt_reports.filter((a) => a.details && a.metric !== null);
  const pick = measured.find((a) => a.outcome === "passed" || a.outcome === "passed_off_path") ?? measured[measured.length - 1];
  return pick?.details ?? null;
}

/**
 * Stage 5's fidelity rows: every codec at every split layer, same host — and on hosts, with the
 * decoder on another host than the encoder, the same packets across hosts (path "cross host (A →
 * B)", with whether they matched the same-host row bit for bit).
 */
export function transferRowsOf(stages: readonly StageReport[]): TransferRow[] {
  const d = finalDetails(stages, 5);
  const rows = Array.isArray(d?.fidelity) ? (d!.fidelity as unknown[]) : [];
  const cross = (Array.isArray(d?.cross_host) ? (d!.cross_host as unknown[]) : []).map(obj).filter((r): r is J => r !== null && typeof r.codec === "string");
  const encoderHost = typeof cross[0]?.encoder_host === "string" ? cross[0].encoder_host : null;
  const path = encoderHost ? `same host (${encoderHost})` : typeof d?.path === "string" ? d.path : "same host";
  const crossRows: TransferRow[] = cross.map((r) => ({
    codec: r.codec as string,
    path: `cross host (${String(r.encoder_host)} → ${String(r.decoder_host)})`,
    layer: numOr(r.layer),
    bits_per_value: null,
    bytes: numOr(r.bytes_per_token),
    bytes_per_token: numOr(r.bytes_per_token),
    cosine: null,
    mse: null,
    kl: numOr(r.kl_mean),
    kl_mean: numOr(r.kl_mean),
    top1: numOr(r.top1),
    extra: {
      same_host: r.identical === true ? "bit-exact" : "differs",
      kl_max_abs_diff: numOr(r.kl_max_abs_diff),
      top1_diff: numOr(r.top1_diff),
      same_host_kl_mean: numOr(r.same_host_kl_mean),
      tokens: numOr(r.tokens),
    },
  }));
  return [...rows.map(obj).filter((r): r is J => r !== null && typeof r.codec === "string").map((r) => ({
    codec: r.codec as string,
    path,
    layer: numOr(r.layer),
    bits_per_value: null,
    bytes: numOr(r.bytes_per_token),
    bytes_per_token: numOr(r.bytes_per_token),
    cosine: null,
    mse: null,
    kl: numOr(r.kl_mean),
    kl_mean: numOr(r.kl_mean),
    top1: numOr(r.top1),
    extra: { kl_max: numOr(r.kl_max), payload_bytes_per_token: numOr(r.payload_bytes_per_token), tokens: numOr(r.tokens) },
  })), ...crossRows];
}

/** Stage 2: route accuracy and macro-F1 against entropy-only routing and the majority class. */
export function routeOf(stages: readonly StageReport[]): RouteRow | null {
  const d = finalDetails(stages, 2);
  if (!d) return null;
  const score = obj(d.score);
  const named = obj(d.named);
  const trivial = obj(d.trivial);
  const vit = obj(d.vitality);
  return {
    accuracy: numOr(score?.value),
    entropy_accuracy: numOr(named?.value),
    majority_accuracy: numOr(trivial?.value),
    macro_f1: numOr(d.macro_f1),
    entropy_macro_f1: numOr(d.entropy_macro_f1),
    majority_macro_f1: numOr(d.majority_macro_f1),
    tokens: numOr(d.tokens),
    vitality_ece: numOr(vit?.ece),
    dead_auroc: numOr(vit?.dead_auroc),
    dead_auroc_entropy: numOr(vit?.dead_auroc_entropy),
  };
}

/** Stage 2: the vitality head's calibration bins per head layer (lower edge, mean confidence, accuracy, count). */
export function calibrationOf(stages: readonly StageReport[]): CalibrationRow[] {
  const layers = obj(finalDetails(stages, 2)?.layers);
  if (!layers) return [];
  const out: CalibrationRow[] = [];
  for (const [layer, v] of Object.entries(layers)) {
    const vit = obj(obj(v)?.vitality);
    const bins = Array.isArray(vit?.calibration) ? (vit!.calibration as unknown[]) : [];
    // a bin is {lo, confidence, accuracy, count} (models/heads' Calibration), or [lo, confidence, accuracy, count]
    const rows = bins.map((b) => {
      const o = obj(b);
      const a = Array.isArray(b) ? (b as unknown[]) : null;
      return { lower: numOr(o ? o.lo : a?.[0]), confidence: numOr(o ? o.confidence : a?.[1]), accuracy: numOr(o ? o.accuracy : a?.[2]), count: numOr(o ? o.count : a?.[3]) };
    }).filter((r): r is { lower: number; confidence: number; accuracy: number; count: number } => r.lower !== null && r.confidence !== null && r.accuracy !== null && r.count !== null);
    if (rows.length > 0) out.push({ layer: Number(layer), ece: numOr(vit?.ece), bins: rows.filter((r) => r.count > 0) });
  }
  return out;
}

/**
 * What the curriculum bought: stage 6's routed-vs-full measurement of the weights the run ends
 * with (after the joint finetune when it passed; the weights before it when it rolled back).
 */
export function architectureOf(stages: readonly StageReport[]): ArchitectureRow | null {
  const s6 = stages.find((x) => x.stage === 6);
  const d = finalDetails(stages, 6);
  if (!s6 || !d) return null;
  const kept = s6.status === "passed";
  const a = obj(kept ? d.after : d.before);
  if (!a) return null;
  const full = numOr(a.full_layers);
  const mean = numOr(a.mean_layers_per_token);
  const tr = numOr(a.tokens_per_s_routed);
  const tf = numOr(a.tokens_per_s_full);
  const er = numOr(a.em_routed);
  const ef = numOr(a.em_full);
  return {
    weights: kept ? "after the joint finetune (stage 6)" : "before the joint finetune (stage 6 rolled back to stage 5's weights)",
    mean_layers_per_token: mean,
    full_layers: full,
    tokens_per_s_routed: tr,
    tokens_per_s_full: tf,
    em_routed: er,
    em_full: ef,
    prompts: numOr(a.prompts),
    rounds: numOr(a.rounds),
    depth_saved: mean !== null && full !== null && full > 0 ? 1 - mean / full : null,
    speedup: tr !== null && tf !== null && tf > 0 ? tr / tf : null,
    em_drop: er !== null && ef !== null ? ef - er : null,
  };
}
