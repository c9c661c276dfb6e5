// Stage 0, baseline. Training = capture: batches of the stage's lane go through the teacher
// (full depth, frozen base), which stores the hidden states at the candidate layers in the
// Object Store and returns the logit-lens argmax of every candidate layer and of the final
// one; each batch's agreement counts are kept in KV (troupe_<run>_capture), so a resumed
// director continues where the capture was. Evaluation = the split-layer map from those
// counts, the base's held-out exact match and loss per domain from the evaluator, both
// stored as the run's baseline record. The gate (baseline-gate.ts) is on quality: the base's
// held-out exact match on its own domains against the trivial answer, a split layer found,
// and the record complete when read back.
import { END_BYTE, packRows } from "../../../data/mod.js";
import { openObjects } from "../../../hosts/mod.js";
import { type WireTensor, typedView, wireTensor } from "../../../protocol/mod.js";
import type { EvaluateInput, EvaluateOutput, GateCheck, JsonObject, ProgressListener, TrainInput, TrainOutput } from "../../director/mod.js";
import { StageRecordError } from "../errors.js";
import { domainsOf, interleaveDomains, loadLane } from "../lanes.js";
import { ScoreCheckpoint, type Score, TeacherForward } from "../messages.js";
import { BUCKETS, OBJECT_BUCKETS, RUN_KEYS, openBucket } from "../records.js";
import { laneOf } from "../spec.js";
import type { BaseRecord } from "./base.js";
import { judgeBaseline } from "./baseline-gate.js";
import { type WorkDeps, callRole } from "./deps.js";
import { hitsOf } from "./evidence.js";
import { type CountsByDomain, countAgreement, mergeCounts, splitLayerMap, type SplitLayerMap } from "./split-map.js";

interface CaptureBatch {
  readonly batch: number;
  readonly rows: number;
  readonly tokens: number;
  readonly lossSum: number;
  readonly counts: CountsByDomain;
  readonly stored: { readonly name: string; readonly bytes: number; readonly digest: string } | null;
  readonly batchedWith: number;
}

export interface BaselineRecord {
  readonly base: BaseRecord["ref"];
  readonly attempt: number;
  readonly map: SplitLayerMap;
  readonly baseline: Score;
  readonly evalLane: string;
  readonly captureLane: string;
  readonly captured: { readonly batches: number; readonly tokens: number; readonly hidden: CaptureBatch["stored"][] };
}

/** Candidate layers: the scenario's, else every block but the last (the last is the final layer). */
export function candidateLayers(layers: readonly number[], nLayer: number): number[] {
  const l = layers.length > 0 ? [...layers] : Array.from({ length: Math.max(1, nLayer - 1) }, (_, i) => i);
  return l.sort((a, b) => a - b);
}

const captureKey = (attempt: number, batch: number) => `a${attempt}-b${batch}`;

async function baseOf(deps: WorkDeps): Promise<BaseRecord> {
  const b = await deps.record.get<BaseRecord>(RUN_KEYS.base);
  if (!b) throw new StageRecordError(`run ${deps.runId}: no base checkpoint recorded; stage 0 prepares it`);
  return b;
}

export async function captureBaseline(deps: WorkDeps, input: TrainInput, onProgress: ProgressListener, signal: AbortSignal): Promise<TrainOutput> {
  const base = await baseOf(deps);
  const { name } = laneOf(deps.spec, input.plan.lane ?? input.plan.evalLane, "stage 0");
  const items = interleaveDomains((await loadLane(deps.spec, name)).items);
  const layers = candidateLayers(input.plan.layers, deps.spec.model.nLayer);
  const B = input.plan.batch;
  const T = deps.spec.model.block;
  const steps = input.attempt.steps;
  const store = await openBucket<CaptureBatch>(deps.nc, deps.runId, BUCKETS.capture);
  let lossSum = 0;
  let tokens = 0;

  const one = async (k: number): Promise<void> => {
    const key = captureKey(input.attempt.attempt, k);
    let got = (await store.get(key))?.value;
    if (!got) {
      const rows = Array.from({ length: B }, (_, i) => items[((k - 1) * B + i) % items.length]!);
      const batch = packRows(rows, B, T, END_BYTE);
      const reply = await callRole(deps, "teacher", TeacherForward, {
        checkpoint: base.ref,
        idx: wireTensor("i32", [B, T], batch.idx),
        targets: wireTensor("i32", [B, T], batch.targets),
        layers: layers.map((l) => l + 1), // residual stream after block l
        want: { logits: false, hidden: false, lens: true },
        storeAs: `${deps.runId}/s0-a${input.attempt.attempt}/b${k}`,
      }, signal);
      if (!reply.lens) throw new StageRecordError("the teacher answered without the logit-lens argmax it was asked for");
      const lens = typedView(reply.lens as WireTensor & { dtype: "i32" });
      got = {
        batch: k,
        rows: rows.length,
        tokens: reply.tokens,
        lossSum: reply.lossSum,
        counts: countAgreement(lens, batch.targets, layers.length, B, T, rows.map((r) => r.domain)),
        stored: reply.stored ?? null,
        batchedWith: reply.batchedWith,
      };
      await store.put(key, got);
    }
    lossSum += got.lossSum;
    tokens += got.tokens;
    onProgress({ step: k, losses: { total: got.lossSum / Math.max(1, got.tokens) } });
  };

  // two batches in flight: the teacher serves concurrent requests with one forward pass
  for (let k = 1; k <= steps; k += 2) {
    signal.throwIfAborted();
    await Promise.all([one(k), ...(k + 1 <= steps ? [one(k + 1)] : [])]);
  }
  return { steps, losses: { total: lossSum / Math.max(1, tokens) }, checkpoint: null };
}

type Check = GateCheck;

/** What makes a baseline record complete, checked on the record as read back from KV. */
async function checkRecord(deps: WorkDeps, r: BaselineRecord | null, captureDomains: string[], evalDomains: string[]): Promise<Check[]> {
  const finite = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  const layersOk = (a: { agreement: Record<string, number> } | undefined) => !!a && r!.map.layers.every((l) => finite(a.agreement[String(l)]));
  if (!r) return [{ name: "baseline record stored", ok: false }];
  const hidden = await openObjects(deps.nc, { run: deps.runId, bucket: OBJECT_BUCKETS.hidden });
  const objects = await Promise.all(r.captured.hidden.map(async (h) => (h ? (await hidden.info(h.name))?.size === h.bytes : false)));
  return [
    { name: "split-layer map: every candidate layer measured overall", ok: r.map.layers.length > 0 && layersOk(r.map.overall) },
    { name: "split-layer map: every domain of the capture lane, every layer", ok: captureDomains.every((d) => layersOk(r.map.byDomain[d])) },
    { name: "baseline: overall exact match and loss", ok: r.baseline.n > 0 && finite(r.baseline.exactMatch) && finite(r.baseline.loss) },
    { name: "baseline: exact match and loss of every domain of the eval lane", ok: evalDomains.every((d) => (r.baseline.byDomain[d]?.n ?? 0) > 0 && finite(r.baseline.byDomain[d]?.exactMatch) && finite(r.baseline.byDomain[d]?.loss)) },
    { name: "captured hidden states stored (size checked)", ok: objects.length > 0 && objects.every(Boolean) },
  ];
}

export async function recordBaseline(deps: WorkDeps, input: EvaluateInput, signal: AbortSignal): Promise<EvaluateOutput> {
  const base = await baseOf(deps);
  const captureLane = laneOf(deps.spec, input.plan.lane ?? input.plan.evalLane, "stage 0").name;
  const evalLane = laneOf(deps.spec, input.plan.evalLane ?? input.plan.lane, "stage 0").name;
  const layers = candidateLayers(input.plan.layers, deps.spec.model.nLayer);
  const store = await openBucket<CaptureBatch>(deps.nc, deps.runId, BUCKETS.capture);
  const counts: CountsByDomain = {};
  const hidden: CaptureBatch["stored"][] = [];
  let tokens = 0;
  for (let k = 1; k <= input.attempt.steps; k++) {
    const b = (await store.get(captureKey(input.attempt.attempt, k)))?.value;
    if (!b) throw new StageRecordError(`stage 0 capture is incomplete: batch ${k} of ${input.attempt.steps} is not recorded`);
    mergeCounts(counts, b.counts);
    hidden.push(b.stored);
    tokens += b.tokens;
  }
  const map = splitLayerMap(counts, layers, input.plan.splitAgreement ?? 0.9);
  const { score: baseline } = await callRole(deps, "evaluator", ScoreCheckpoint, { checkpoint: base.ref, lane: evalLane }, signal);
  const record: BaselineRecord = {
    base: base.ref,
    attempt: input.attempt.attempt,
    map,
    baseline,
    evalLane,
    captureLane,
    captured: { batches: input.attempt.steps, tokens, hidden },
  };
  await deps.record.put(RUN_KEYS.baseline, record);

  // the gate reads what was stored, not what was computed
  const stored = await deps.record.get<BaselineRecord>(RUN_KEYS.baseline);
  const [capture, evaluated] = await Promise.all([loadLane(deps.spec, captureLane), loadLane(deps.spec, evalLane)]);
  const captureDomains = domainsOf(interleaveDomains(capture.items).slice(0, input.attempt.steps * input.plan.batch));
  const recordChecks = await checkRecord(deps, stored, captureDomains, domainsOf(evaluated.items));
  // quality: the base against the trivial answer on the held-out prompts of its own domains
  const pretrainLane = deps.spec.model.base?.pretrain.lane ?? null;
  const pretrainItems = pretrainLane ? (await loadLane(deps.spec, pretrainLane)).items : [];
  const gate = stored
    ? judgeBaseline({
        recordChecks,
        map: stored.map,
        evalItems: evaluated.items,
        baseHits: hitsOf(stored.baseline, evaluated.items, "stage 0 base"),
        ownDomains: domainsOf(pretrainItems),
        pretrainItems,
      })
    : { metric: Number.NaN, evidence: null, checks: recordChecks, measuredOn: {} };
  const { hits: _hits, ...scored } = baseline;
  const details = {
    base: { ref: base.ref, cached: base.cached, pretrain: base.pretrain },
    split_layer_map: map,
    baseline: scored,
    own_domains_measured: gate.measuredOn,
    captured: record.captured,
    checks: gate.checks,
  };
  return {
    metric: gate.metric,
    ...(gate.evidence ? { evidence: gate.evidence } : {}),
    checks: gate.checks,
    details: JSON.parse(JSON.stringify(details)) as JsonObject,
  };
}
