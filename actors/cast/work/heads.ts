// Stages 2-6, training: one `heads` job on the trainer's queue per attempt, on the weights the
// stage starts from (lineage.ts), with the stage's λ schedule, layers and — for stage 2 — the
// oracle's labels of its training lane. Every step's composite loss and each of its terms come
// back through the progress stream (follow.ts). The trained head set goes to the run's heads
// bucket under the attempt's name; the attempt's checkpoint is that name.
import type { ProgressListener, TrainInput, TrainOutput } from "../../director/mod.js";
import type { AgpJobSpec } from "../agp-messages.js";
import { StageRecordError } from "../errors.js";
import type { TrainJobBody } from "../messages.js";
import { laneOf, oracleOf } from "../spec.js";
import type { WorkDeps } from "./deps.js";
import { runFollowedJob } from "./follow.js";
import { labelPlan } from "./labels.js";
import { headsJobId, headsObject, stageLayers, weightsBefore } from "./lineage.js";

export async function agpJob(deps: WorkDeps, input: TrainInput): Promise<TrainJobBody> {
  const { stage } = input;
  const attempt = input.attempt.attempt;
  if (input.attempt.lr === null) throw new StageRecordError(`stage ${stage} has no learning rate`);
  const lane = laneOf(deps.spec, input.plan.lane, `stage ${stage}`).name;
  const evalLane = input.plan.evalLane ? laneOf(deps.spec, input.plan.evalLane, `stage ${stage}`).name : null;
  const layers = stageLayers(deps);
  const oracle = oracleOf(deps.spec);
  const stage2 = deps.spec.curriculum.stages.find((p) => p.stage === 2);
  const labels = stage === 2 ? (await labelPlan(deps.spec, input)).train : null;
  if (stage === 2 && !stage2) throw new StageRecordError("stage 2 is not in the plan");
  const jobId = headsJobId(stage, attempt);
  const agp: AgpJobSpec = {
    weights: await weightsBefore(deps, stage),
    headsOut: headsObject(stage, attempt),
    evalLane,
    candidates: layers.candidates,
    headLayers: layers.headLayers,
    depthLayers: layers.depthLayers,
    splitLayers: layers.splitLayers,
    semanticLayer: layers.semanticLayer,
    schedule: input.schedule as AgpJobSpec["schedule"],
    oracle: { klMax: oracle.klMax, top1: oracle.top1, rule: oracle.rule },
    labels: labels ? { stage: 2, lane: labels.lane, batches: labels.batches } : null,
    bitratePenalty: input.plan.bitratePenalty,
  };
  return {
    jobId,
    kind: "heads",
    stage,
    attempt,
    lane,
    ...(evalLane ? { evalLane } : {}),
    steps: input.attempt.steps,
    lr: input.attempt.lr,
    batch: input.plan.batch,
    warmup: 0,
    seed: input.attempt.seed,
    checkpointEvery: 0,
    checkpoints: { bucket: "heads", run: deps.runId, stage: jobId },
    agp: JSON.parse(JSON.stringify(agp)) as unknown,
  };
}

export async function trainHeadsStage(deps: WorkDeps, input: TrainInput, onProgress: ProgressListener, signal: AbortSignal): Promise<TrainOutput> {
  const job = await agpJob(deps, input);
  const s = await runFollowedJob(deps, input, job, onProgress, signal);
  const r = s.result!;
  return { steps: r.steps, losses: { total: r.trainLoss }, checkpoint: r.heads ?? null };
}
