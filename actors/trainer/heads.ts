// What the trainer does with a `heads` job (curriculum stages 2-6), through the models layer's
// stage tasks, on the frozen stage model with the head set the earlier stages left:
//   2  route and vitality heads on the oracle's labels of the training lane (the label stream)
//   3  depth-routing residuals, KL to the full-depth teacher
//   4  the semantic projection on the rule-based weak labels
//   5  the transfer adapters at the split layers (with the bitrate penalty, if set)
//   6  the joint finetune: the model's adapter and every head on the composite loss
// λ of every term at step k is lambdasFor(schedule, k) (the director's schedule); every step's
// λ-weighted total and each unweighted term go to the progress stream. The head set (and for
// stage 6 the adapter's parameters) go to the run's heads bucket under the job's name. Head
// stages train in seconds, so a job taken again after its trainer died starts over (seeded: the
// same result); there are no mid-job checkpoints.
import type { Logger, NatsConnection, Objects } from "../../hosts/mod.js";
import * as M from "../../models/mod.js";
import { type LossSchedule, lambdasFor } from "../director/mod.js";
import {
  type AgpJobSpec,
  CastSpecError,
  type JobResult,
  type RunSpec,
  type TrainJobBody,
  collectLabels,
  loadLane,
  loadWeights,
  saveAdapter,
  saveHeads,
  withoutPrompts,
} from "../cast/mod.js";

/** Units of the transfer adapter's MLPs (bench agp measured the learned codec beating int4 at this width). */
const TRANSFER_HIDDEN = 256;

export interface HeadsJobOptions {
  readonly spec: RunSpec;
  readonly job: TrainJobBody;
  readonly nc: NatsConnection;
  readonly stores: (bucket: string) => M.CheckpointStore;
  readonly objects: Objects;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly onStep: (step: number, losses: Record<string, number>) => void;
}

export function checkAgpJob(job: TrainJobBody): AgpJobSpec {
  const a = job.agp as AgpJobSpec | undefined;
  if (!a || typeof a !== "object" || !a.weights || typeof a.headsOut !== "string" || !Array.isArray(a.candidates)) {
    throw new CastSpecError(`heads job ${job.jobId} has no stage settings (agp)`);
  }
  return a;
}

export async function runHeadsJob(o: HeadsJobOptions): Promise<JobResult & { resumedFrom: null }> {
  const { job, spec } = o;
  const a = checkAgpJob(job);
  const t0 = performance.now();
  const lane = (await loadLane(spec, job.lane)).items;
  const held = a.evalLane ? (await loadLane(spec, a.evalLane)).items : [];
  const { items: train, removed } = withoutPrompts(lane, held);
  const data: M.AgpData = { train, heldOut: [] };
  const { model, heads } = await loadWeights(o.stores, o.objects, a.weights, { trainable: job.stage === 6 });
  let firstLoss: number | null = null;
  let lastLoss = Number.NaN;
  const run = {
    steps: job.steps,
    lr: job.lr,
    seed: job.seed,
    lambdas: (s: number) => lambdasFor(a.schedule as LossSchedule, s),
    signal: o.signal,
    onProgress: (p: M.AgpProgress) => {
      const total = p.losses.total ?? Number.NaN;
      firstLoss ??= total;
      lastLoss = total;
      o.onStep(p.step, p.losses);
    },
  };
  const oracle = { klMax: a.oracle.klMax, top1: a.oracle.top1, rule: a.oracle.rule };
  let details: Record<string, unknown> = {};
  switch (job.stage) {
    case 2: {
      if (!a.labels) throw new CastSpecError(`stage 2 job ${job.jobId} names no oracle labels to train on`);
      const joined = await collectLabels(o.nc, spec.runId, a.labels.stage, a.labels.lane, a.labels.batches);
      const r = await M.trainRouteVitality({ ...run, model, data, candidates: a.candidates, layers: a.headLayers, oracle, heads, labels: joined.labels, normRef: joined.normRef });
      details = { tokens: r.tokens, label_batches: joined.batches, labelled_by: joined.by, labels_differing_from_own: r.labelled.externalMismatch, class_counts: r.counts };
      break;
    }
    case 3: {
      const r = await M.trainDepthResiduals({ ...run, model, data, layers: a.depthLayers, heads });
      details = { tokens: r.tokens };
      break;
    }
    case 4: {
      if (a.semanticLayer === null) throw new CastSpecError(`stage 4 job ${job.jobId} names no layer for the semantic head`);
      const route = M.headAt<M.ClassifierHead>(heads, "route", a.semanticLayer);
      const r = await M.trainSemantic({ ...run, model, data, layer: a.semanticLayer, heads, oracle, ...(route ? { normRef: route.spec.normRef } : {}) });
      details = { tokens: r.tokens, label_rate: r.labelRate, converged: Number.isFinite(r.fit.last.sem!) && r.fit.last.sem! < r.fit.first.sem! };
      break;
    }
    case 5: {
      const r = await M.trainTransfer({ ...run, model, data, layers: a.splitLayers, heads, hidden: TRANSFER_HIDDEN, ...(a.bitratePenalty !== null ? { bitratePenalty: a.bitratePenalty } : {}) });
      details = { bytes_per_token: r.bytesPerToken };
      break;
    }
    case 6: {
      const r = await M.trainJoint({ ...run, model, data, heads, candidates: a.candidates, oracle });
      details = { trained_parameters: r.trained };
      await saveAdapter(o.objects, `${a.headsOut}.adapter`, model);
      break;
    }
    default:
      throw new CastSpecError(`heads job ${job.jobId}: stage ${job.stage} trains no heads`);
  }
  await saveHeads(o.objects, a.headsOut, heads);
  o.log.info({ job: job.jobId, stage: job.stage, heads: [...heads.keys()], details }, "heads trained");
  return {
    steps: job.steps,
    trainLoss: lastLoss,
    firstLoss,
    tokensPerS: 0,
    wallMs: performance.now() - t0,
    final: a.weights.model,
    removedHeldOut: removed,
    examples: train.length,
    heads: a.headsOut,
    adapter: job.stage === 6 ? `${a.headsOut}.adapter` : (a.weights.adapter ?? null),
    details,
    resumedFrom: null,
  };
}
