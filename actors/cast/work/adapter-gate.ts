// Stage 1's gate. The evaluator answers the gate question — base and adapted scored on the
// stage's eval lane, exact match and loss, overall, per domain and per item — and the gain is
// measured here against the better of the base and the trivial baselines (constant answer,
// majority per domain, the training lane's majority class) on the same items, with intervals
// (evidence.ts). `em_gain` is that gain; `heldout_gain` (relative NLL drop) is the evaluator's.
import type { EvaluateInput, EvaluateOutput, JsonObject } from "../../director/mod.js";
import { StageRecordError } from "../errors.js";
import { loadLane, withoutPrompts } from "../lanes.js";
import { GateQuestion } from "../messages.js";
import { laneOf } from "../spec.js";
import { adapterJobId, checkpointName } from "./adapter.js";
import { ensureBase } from "./base.js";
import { type WorkDeps, callRole } from "./deps.js";
import { exactMatchEvidence, hitsOf } from "./evidence.js";

export async function gateAdapterStage(deps: WorkDeps, input: EvaluateInput, signal: AbortSignal): Promise<EvaluateOutput> {
  const base = await ensureBase(deps, signal);
  const evalLane = laneOf(deps.spec, input.plan.evalLane, `stage ${input.stage}`).name;
  const jobId = adapterJobId(input.stage, input.attempt.attempt);
  const job = (await deps.jobs.get(jobId))?.value;
  if (!job?.result) throw new StageRecordError(`job ${jobId} has no result in KV; the stage's training did not finish`);
  const answer = await callRole(deps, "evaluator", GateQuestion, {
    stage: input.stage,
    attempt: input.attempt.attempt,
    metric: input.gate.metric,
    lane: evalLane,
    base: base.ref,
    adapted: job.result.final,
  }, signal);
  const gain: Record<string, number> = {};
  for (const [d, a] of Object.entries(answer.adapted.byDomain)) {
    const b = answer.base.byDomain[d];
    if (b) gain[d] = a.exactMatch - b.exactMatch;
  }

  let metric = answer.metric;
  let evidence;
  if (input.gate.metric === "em_gain") {
    const heldOut = (await loadLane(deps.spec, evalLane)).items;
    const trainLane = input.plan.lane ? laneOf(deps.spec, input.plan.lane, `stage ${input.stage}`).name : null;
    const train = trainLane ? withoutPrompts((await loadLane(deps.spec, trainLane)).items, heldOut).items : undefined;
    evidence = exactMatchEvidence({
      measure: "held-out exact match",
      score: { name: "adapted", hits: hitsOf(answer.adapted, heldOut, `stage ${input.stage} adapted`) },
      named: { name: "base", kind: "named", hits: hitsOf(answer.base, heldOut, `stage ${input.stage} base`), detail: checkpointName(base.ref) },
      heldOut,
      ...(train ? { train } : {}),
    });
    metric = evidence.gain;
  }
  const strip = ({ hits: _hits, ...score }: typeof answer.base) => score;
  const details = {
    metric: input.gate.metric,
    eval_lane: evalLane,
    base: { checkpoint: checkpointName(base.ref), ...strip(answer.base) },
    adapted: { checkpoint: checkpointName(job.result.final), ...strip(answer.adapted) },
    exact_match_gain_over_base_by_domain: gain,
    trajectory: answer.trajectory,
    training: {
      steps: job.result.steps,
      examples: job.result.examples,
      removed_heldout_prompts: job.result.removedHeldOut,
      tokens_per_s: Math.round(job.result.tokensPerS),
      trainer_deliveries: job.deliveries,
      resumed_from_steps: job.resumedFrom,
    },
  };
  return { metric, ...(evidence ? { evidence } : {}), details: JSON.parse(JSON.stringify(details)) as JsonObject };
}
