// Stages 2-6, evaluation: the evaluator measures the stage on its eval lane with the weights the
// attempt's training left (the transfer actors measure stage 5's codecs), and the gate is built
// here from what it returns, the same way for every head stage:
// - evidence: the per-item vectors behind the score, the named baseline and every trivial one,
//   through data/evidence (accuracies: compareAgainstReferences; KL and quality per compute:
//   compareMeans), with 95 % intervals; route_gain is the evidence's gain over the best of them
// - required checks: the score beats the named baseline and the best trivial one (strictly),
//   and whatever the stage itself requires (macro-F1, a router that lets tokens go, stability,
//   the exact-match floor)
// - the metric's own interval (a gate planned `interval: true` is judged on its far end)
// - stage 4: stable but not improving is `offPath`: the director ends it passed_off_path
import { compareAgainstReferences, compareMeans, type Evidence } from "../../../data/mod.js";
import type { EvaluateInput, EvaluateOutput, GateCheck, JsonObject } from "../../director/mod.js";
import { type GateReport, transferGate } from "../../../models/mod.js";
import { type WireTensor, typedView } from "../../../protocol/mod.js";
import { AgpGateQuestion } from "../agp-messages.js";
import { StageRecordError } from "../errors.js";
import { loadLane } from "../lanes.js";
import { laneOf, oracleOf } from "../spec.js";
import { type WorkDeps, callRole } from "./deps.js";
import { crossHostCheck, measureThroughActors, stageCodecs } from "./fidelity.js";
import { labelPlan } from "./labels.js";
import { AGP_KEYS, type HeadVerdict, headsJobId, openAgp, stageLayers, weightsAfter, weightsBefore } from "./lineage.js";

/** A head stage's report as the evaluator returns it (models' GateReport as JSON). */
export interface AgpReportJson {
  readonly stage: number;
  readonly metric: string;
  readonly value: number | null;
  readonly direction: "higher" | "lower";
  readonly score: { name: string; value: number | null };
  readonly named: { name: string; value: number | null };
  readonly trivial: { name: string; value: number | null };
  readonly beatsNamed: boolean;
  readonly beatsTrivial: boolean;
  readonly reason: string;
  readonly checks?: readonly GateCheck[];
  readonly details: Record<string, unknown>;
  readonly valueCi?: readonly [number, number];
  readonly items_meta?: { measure: string; kind: "hits" | "values"; direction: "higher" | "lower"; rows: { name: string; detail?: string }[] };
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? String(x) : Number(x.toPrecision(4)).toString());

function evidenceOf(r: AgpReportJson, rows: Float32Array[] | null): Evidence | null {
  const m = r.items_meta;
  if (!m || !rows || rows.length < 2) return null;
  const refs = m.rows.slice(1).map((x, i) => ({ name: x.name, kind: i === 0 ? ("named" as const) : ("trivial" as const), ...(x.detail ? { detail: x.detail } : {}), v: rows[i + 1]! }));
  if (m.kind === "hits") {
    return compareAgainstReferences({
      measure: m.measure,
      score: { name: m.rows[0]!.name, hits: Uint8Array.from(rows[0]!) },
      references: refs.map(({ v, ...x }) => ({ ...x, hits: Uint8Array.from(v) })),
    });
  }
  return compareMeans({ measure: m.measure, direction: m.direction, score: { name: m.rows[0]!.name, values: rows[0]! }, references: refs.map(({ v, ...x }) => ({ ...x, values: v })) });
}

/** The director's EvaluateOutput from a head stage's report and its per-item vectors. */
export function agpEvaluation(input: Pick<EvaluateInput, "stage" | "gate">, r: AgpReportJson, rows: Float32Array[] | null, extra: JsonObject = {}): EvaluateOutput {
  const evidence = evidenceOf(r, rows);
  const checks: GateCheck[] = [
    { name: `beats ${r.named.name}`, ok: r.beatsNamed, detail: `${r.score.name} ${fmt(r.score.value)} vs ${fmt(r.named.value)}` },
    { name: `beats the best trivial baseline (${r.trivial.name})`, ok: r.beatsTrivial, detail: `${r.score.name} ${fmt(r.score.value)} vs ${fmt(r.trivial.value)}` },
    ...(r.checks ?? []).map((c) => ({ name: c.name, ok: c.ok, ...(c.detail ? { detail: c.detail } : {}) })),
  ];
  let metric = r.value ?? Number.NaN;
  if (input.gate.metric === "route_gain") metric = evidence ? evidence.gain : Number.NaN;
  if (input.gate.metric === "easy_latency_gain") metric = (r.details.easy_latency_gain as number | null) ?? Number.NaN;
  const metricCi: readonly [number, number] | null =
    input.gate.metric === "route_gain" && evidence ? evidence.gain_ci
      : (input.gate.metric === "depth_kl" || input.gate.metric === "transfer_kl") && evidence ? evidence.score.ci
        : input.gate.metric === "quality_per_compute_gain" && r.valueCi ? r.valueCi
          : null;
  // stage 4 must beat the constant vector beyond noise, paired per held-out token: a lower
  // bound above the constant's own lower bound (what the models layer checks) is not enough
  const beyondNoise = input.stage === 4 && evidence
    ? { name: "beats the constant vector beyond noise (the paired gain's 95% lower bound > 0)", ok: evidence.gain_ci[0] > 0, detail: `gain over ${evidence.against} ${fmt(evidence.gain)}, 95% CI [${evidence.gain_ci.map(fmt).join(", ")}]` }
    : null;
  if (beyondNoise) checks.push(beyondNoise);
  const offPath = input.stage === 4 && r.details.stable === true && (r.details.off_path === true || beyondNoise?.ok === false)
    ? r.details.off_path === true
      ? `stable, but neither gain's 95% lower bound clears 0 and the constant vector's (${r.reason.replace(/^stage 4 did not pass: /, "")})`
      : `stable, but its gain over the constant vector is within noise (${beyondNoise!.detail})`
    : null;
  const details = JSON.parse(JSON.stringify({ ...r.details, library_verdict: r.reason, score: r.score, named: r.named, trivial: r.trivial, ...extra })) as JsonObject;
  return { metric, ...(evidence ? { evidence } : {}), checks, ...(metricCi ? { metricCi } : {}), ...(offPath ? { offPath } : {}), details };
}

function rowsOf(items: WireTensor | undefined): Float32Array[] | null {
  if (!items) return null;
  const [K, N] = items.shape as [number, number];
  const flat = typedView(items as WireTensor & { dtype: "f32" });
  return Array.from({ length: K }, (_, k) => Float32Array.from(flat.subarray(k * N, (k + 1) * N)));
}

export async function evaluateHeadsStage(deps: WorkDeps, input: EvaluateInput, signal: AbortSignal): Promise<EvaluateOutput> {
  const { stage } = input;
  const attempt = input.attempt.attempt;
  const lane = laneOf(deps.spec, input.plan.lane, `stage ${stage}`).name;
  const evalLane = laneOf(deps.spec, input.plan.evalLane, `stage ${stage}`).name;
  const weights = await weightsAfter(deps, stage, attempt);
  const layers = stageLayers(deps);
  const oracle = oracleOf(deps.spec);
  const heavy = { ...deps, callTimeoutMs: Math.max(deps.callTimeoutMs ?? 0, 30 * 60_000) };
  const job = (await deps.jobs.get(headsJobId(stage, attempt)))?.value;
  const s2 = deps.spec.curriculum.stages.find((p) => p.stage === 2);
  // stage 4 reuses the oracle's labels when it works on stage 2's lanes
  const sameLanes = s2 && s2.lane === input.plan.lane && s2.evalLane === input.plan.evalLane;
  const labels = (stage === 2 || (stage === 4 && sameLanes)) && s2 ? await labelPlan(deps.spec, { stage: 2, plan: s2 }) : null;
  const settings: Record<string, unknown> = {
    candidates: layers.candidates,
    oracle: { klMax: oracle.klMax, top1: oracle.top1, rule: oracle.rule },
    labels: labels ? { stage: 2, train: { lane: labels.train.lane, batches: labels.train.batches }, heldOut: { lane: labels.heldOut.lane, batches: labels.heldOut.batches } } : null,
    maxError: 0.01,
    rounds: 3,
    repeats: 3,
    steps: input.attempt.steps,
    lr: input.attempt.lr ?? undefined,
    converged: (job?.result?.details as { converged?: boolean } | undefined)?.converged ?? true,
    splitLayers: layers.splitLayers,
    batch: input.plan.batch,
  };
  const ask = (extra: Record<string, unknown> = {}) => callRole(heavy, "evaluator", AgpGateQuestion, {
    stage, attempt, metric: input.gate.metric, ...(input.gate.threshold !== null ? { threshold: input.gate.threshold } : {}),
    lane, evalLane, weights, settings: JSON.parse(JSON.stringify(settings)), ...extra,
  }, signal);
  if (stage === 5) {
    const items = (await loadLane(deps.spec, evalLane)).items;
    const codecs = stageCodecs(input.plan.codecs);
    const measured = await measureThroughActors(deps, { weights, items, layers: layers.splitLayers, codecs, batch: input.plan.batch }, signal);
    const a = await ask();
    const constantRows = rowsOf(a.items);
    if (!constantRows) throw new StageRecordError("the evaluator returned no constant-state baseline for stage 5");
    const constant = new Map(layers.splitLayers.map((l, i) => [l, constantRows[i]!]));
    const cross = measured.crossHost;
    const path = cross
      ? `same host: the encoder's host (${cross[0]!.encoder_host}) decodes the packet itself; cross host: the same packet over a link to the transfer decoder on ${cross[0]!.decoder_host}`
      : "same host: transfer encoder → packet over NATS → transfer decoder";
    const g: GateReport = transferGate({ rows: measured.rows, constant, threshold: input.gate.threshold, path });
    const json = JSON.parse(JSON.stringify({ ...g, items: undefined, items_meta: g.items ? { measure: g.items.measure, kind: g.items.kind, direction: g.items.direction, rows: [g.items.score, g.items.named, ...g.items.trivial].map((x) => ({ name: x.name, ...("detail" in x && x.detail ? { detail: x.detail } : {}) })) } : undefined })) as AgpReportJson;
    // across hosts, the receiver is deterministic: the same bytes must give the same fidelity
    // on the other host, bit for bit, for every codec; a difference fails the stage
    if (cross) (json as { checks?: GateCheck[] }).checks = [...(json.checks ?? []), crossHostCheck(cross)];
    const rows = g.items ? [g.items.score.values, g.items.named.values, ...g.items.trivial.map((x) => x.values)] : null;
    return agpEvaluation(input, json, rows, { transfer: { decoders: measured.decoders, calls: measured.calls, wall_s: Math.round(measured.wallMs) / 1000, codecs }, ...(cross ? { cross_host: JSON.parse(JSON.stringify(cross)) as JsonObject[] } : {}) });
  }
  const a = await ask(stage === 6 ? { before: await weightsBefore(deps, 6) } : {});
  const out = agpEvaluation(input, a.report as AgpReportJson, rowsOf(a.items), { cached: a.cached });
  if (stage === 4) {
    const agp = await openAgp<HeadVerdict>(deps);
    await agp.put(AGP_KEYS.verdict(stage, attempt), { stage, attempt, offPath: out.offPath !== undefined && out.offPath !== null });
  }
  return out;
}
