// Stage 2's preparation: the oracle's labels of the stage's training lane (its eval lane's
// prompts left out) and of its eval lane. Both are cut into batches of the stage's batch size;
// each batch is a job on the oracle queue (job id = message id), submitted only if the label
// stream does not hold it yet — so a director resumed mid-labelling submits what is missing and
// waits for the rest, and nothing is labelled twice. It waits until every batch is in the label
// stream, then reads the stream once more and fails if any batch is missing or stored twice.
// A batch the queue dead-letters (it failed every attempt) fails the attempt with its reason.
import { pause } from "../../../hosts/mod.js";
import type { JsonObject, PrepareInput } from "../../director/mod.js";
import type { OracleJobBody } from "../agp-messages.js";
import { StageRecordError } from "../errors.js";
import { labelMessages, openOracleQueue, oracleJobId, readLabels } from "../labels.js";
import { loadLane, withoutPrompts } from "../lanes.js";
import { type RunSpec, laneOf, oracleOf } from "../spec.js";
import type { WorkDeps } from "./deps.js";
import { stageLayers, stageModel } from "./lineage.js";

/** One lane to label: its name, the lane left out of it, how many items and batches. */
export interface LabelLane {
  readonly lane: string;
  readonly without: string | null;
  readonly items: number;
  readonly batches: number;
}

export interface LabelPlan {
  readonly stage: number;
  readonly batch: number;
  readonly train: LabelLane;
  readonly heldOut: LabelLane;
}

/** What stage 2 labels: its lane without the eval lane's prompts, and the eval lane. */
export async function labelPlan(spec: RunSpec, input: Pick<PrepareInput, "stage" | "plan">): Promise<LabelPlan> {
  const train = laneOf(spec, input.plan.lane, `stage ${input.stage}`).name;
  const held = laneOf(spec, input.plan.evalLane, `stage ${input.stage}`).name;
  const heldItems = (await loadLane(spec, held)).items;
  const trainItems = withoutPrompts((await loadLane(spec, train)).items, heldItems).items;
  const B = input.plan.batch;
  return {
    stage: input.stage,
    batch: B,
    train: { lane: train, without: held, items: trainItems.length, batches: Math.ceil(trainItems.length / B) },
    heldOut: { lane: held, without: null, items: heldItems.length, batches: Math.ceil(heldItems.length / B) },
  };
}

/** Submits what the label stream lacks and waits until every batch of both lanes is stored. */
export async function ensureLabels(deps: WorkDeps, input: PrepareInput, signal: AbortSignal): Promise<JsonObject> {
  const plan = await labelPlan(deps.spec, input);
  const layers = stageLayers(deps);
  const model = await stageModel(deps);
  const oracle = oracleOf(deps.spec);
  const queue = await openOracleQueue(deps.nc, deps.runId);
  const t0 = Date.now();
  let submitted = 0;
  for (const l of [plan.train, plan.heldOut]) {
    const have = (await readLabels(deps.nc, deps.runId, plan.stage, l.lane, { bodies: false })).batches;
    for (let k = 0; k < l.batches; k++) {
      if (have.has(k)) continue;
      const job: OracleJobBody = {
        jobId: oracleJobId(plan.stage, l.lane, k),
        stage: plan.stage,
        lane: l.lane,
        ...(l.without ? { without: l.without } : {}),
        batch: k,
        from: k * plan.batch,
        to: Math.min(l.items, (k + 1) * plan.batch),
        model,
        candidates: layers.candidates,
        heads: layers.headLayers,
        oracle: { klMax: oracle.klMax, top1: oracle.top1, rule: oracle.rule },
        // the training lane's first batch: the yardstick of every batch's reference norms
        reference: { lane: plan.train.lane, ...(plan.train.without ? { without: plan.train.without } : {}), from: 0, to: Math.min(plan.train.items, plan.batch) },
      };
      await queue.submit(job.jobId, job);
      submitted++;
    }
  }
  const expected = plan.train.batches + plan.heldOut.batches;
  for (;;) {
    signal.throwIfAborted();
    const stored = (await labelMessages(deps.nc, deps.runId, plan.stage, plan.train.lane)) + (await labelMessages(deps.nc, deps.runId, plan.stage, plan.heldOut.lane));
    if (stored >= expected) break;
    const info = await queue.info();
    if (info.deadLetters > 0) {
      const ours = (await queue.deadLetters()).filter((d) => d.jobId.startsWith(`oracle-s${plan.stage}-`));
      if (ours.length > 0) throw new StageRecordError(`the oracle could not label ${ours.length} batch${ours.length === 1 ? "" : "es"}: ${ours[0]!.jobId} (${ours[0]!.reason}: ${ours[0]!.error})`);
    }
    await pause(200, signal);
  }
  const out: Record<string, unknown> = { submitted, batch: plan.batch, wait_s: (Date.now() - t0) / 1000 };
  for (const [key, l] of [["train", plan.train], ["held_out", plan.heldOut]] as const) {
    const read = await readLabels(deps.nc, deps.runId, plan.stage, l.lane, { bodies: false });
    const missing = l.batches - [...read.batches.keys()].filter((k) => k < l.batches).length;
    if (missing > 0 || read.duplicates > 0) {
      throw new StageRecordError(`lane ${l.lane}: ${l.batches - missing} of ${l.batches} label batches stored, ${read.duplicates} stored twice`);
    }
    out[key] = { lane: l.lane, items: l.items, batches: l.batches, messages: read.messages, duplicates: read.duplicates };
  }
  return out as JsonObject;
}
