// The frozen base every stage builds on. With `model.base.pretrain` the trainer pretrains it
// on a lane (a `base` job) before stage 0; its checkpoints go to the cross-run cache
// troupe_shared_bases under a stage name made of the config digest, so a resumed or repeated
// run on the same server finds the finished base and does not train it again. Without a
// pretrain section the base is the seeded random initialisation, written once the same way.
import { createHash } from "node:crypto";
import { hfFingerprint } from "../../../models/mod.js";
import { objectCheckpointStore } from "../../../hosts/mod.js";
import { canonicalJson } from "../digest.js";
import { runJob } from "../jobs.js";
import type { StoredCheckpoint, TrainJobBody } from "../messages.js";
import { OBJECT_BUCKETS, RUN_KEYS, SHARED_RUN } from "../records.js";
import type { RunSpec } from "../spec.js";
import { type WorkDeps, jobOptions } from "./deps.js";

export interface BaseRecord {
  readonly ref: StoredCheckpoint;
  /** Found in the cache: nothing was trained for this run. */
  readonly cached: boolean;
  readonly digest: string;
  readonly pretrain: {
    readonly lane: string | null;
    readonly steps: number;
    readonly firstLoss: number | null;
    readonly trainLoss: number | null;
    readonly tokensPerS: number | null;
    readonly wallMs: number | null;
    readonly examples: number | null;
    readonly deliveries: number;
    readonly resumedFrom: readonly number[];
  };
}

/** What decides the base's weights: the architecture (or the Hugging Face files), the pretraining and its data. */
export function baseDigest(spec: RunSpec): string {
  const { vocab, block, nEmbd, nHead, nLayer, dropout, base, hf } = spec.model;
  const pretrain = base?.pretrain ?? null;
  const identity = {
    version: 1,
    model: { vocab, block, nEmbd, nHead, nLayer, dropout, ...(hf ? { hf: hfFingerprint(hf) } : {}) },
    pretrain,
    lane: pretrain ? spec.lanes[pretrain.lane] ?? null : null,
    seed: pretrain?.seed ?? spec.seed,
  };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex").slice(0, 16);
}

export function baseJob(spec: RunSpec, digest: string): TrainJobBody {
  const p = spec.model.base?.pretrain;
  const stage0 = spec.curriculum.stages.find((s) => s.stage === 0);
  return {
    jobId: `base-${digest}`,
    kind: "base",
    stage: 0,
    attempt: 1,
    lane: p?.lane ?? "",
    ...(stage0?.evalLane ? { evalLane: stage0.evalLane } : {}),
    steps: p?.steps ?? 1,
    lr: p?.lr ?? 0,
    batch: p?.batch ?? 1,
    warmup: p?.warmup ?? 0,
    seed: p?.seed ?? spec.seed,
    checkpointEvery: spec.checkpointEvery,
    checkpoints: { bucket: OBJECT_BUCKETS.bases, run: SHARED_RUN, stage: `base-${digest}` },
  };
}

/** The base's checkpoint: from the cache, or trained now by the trainer. Records it in KV. */
export async function ensureBase(deps: WorkDeps, signal: AbortSignal): Promise<BaseRecord> {
  const recorded = await deps.record.get<BaseRecord>(RUN_KEYS.base);
  const digest = baseDigest(deps.spec);
  if (recorded && recorded.digest === digest) return recorded;
  const job = baseJob(deps.spec, digest);
  const store = objectCheckpointStore(deps.nc, { bucket: OBJECT_BUCKETS.bases });
  const finalStep = deps.spec.model.base ? job.steps : 0;
  const ref: StoredCheckpoint = { bucket: OBJECT_BUCKETS.bases, run: SHARED_RUN, stage: job.checkpoints.stage, step: finalStep, kind: "step" };
  const done = (await store.list(SHARED_RUN, ref.stage)).some((r) => r.step === finalStep);
  let record: BaseRecord;
  if (done) {
    record = {
      ref,
      cached: true,
      digest,
      pretrain: { lane: job.lane || null, steps: finalStep, firstLoss: null, trainLoss: null, tokensPerS: null, wallMs: null, examples: null, deliveries: 0, resumedFrom: [] },
    };
    deps.log.info({ base: ref }, "base found in the cache");
  } else {
    const s = await runJob(deps.queue, deps.jobs, job, jobOptions(deps, signal));
    const r = s.result!;
    record = {
      ref: r.final,
      cached: false,
      digest,
      pretrain: {
        lane: job.lane || null,
        steps: r.steps,
        firstLoss: r.firstLoss,
        trainLoss: r.trainLoss,
        tokensPerS: r.tokensPerS,
        wallMs: r.wallMs,
        examples: r.examples,
        deliveries: s.deliveries,
        resumedFrom: s.resumedFrom,
      },
    };
  }
  await deps.record.put(RUN_KEYS.base, record);
  return record;
}
