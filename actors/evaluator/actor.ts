// The evaluator (role "evaluator"): scores checkpoints on held-out lanes — every checkpoint
// the trainer announces (on the job's eval lane), and whatever the director asks — and
// answers the director's gate question for stage 1: base vs adapted on the eval lane, and for
// the head stages 2-6 (agp.ts). Scores and answers are kept in KV (troupe_<run>_evals) by
// checkpoint and lane (by stage, attempt and weights), so nothing is measured twice — a call
// repeated after a lost reply is answered from KV — a restarted evaluator keeps what it knew,
// and the gate can show the trajectory of an attempt.
import { createHash } from "node:crypto";
// With a `pool` in its config (scenario cast.evaluator.pool) it scores on an accelerator pool
// (pool-score.ts) instead of its own kernels.
import type { RunState } from "../../hosts/mod.js";
import { t } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import {
  AgpGateQuestion,
  type AgpGateAnswer,
  BUCKETS,
  CheckpointAnnounced,
  GateQuestion,
  PoolConfigSchema,
  type PoolRoleConfig,
  type RunSpec,
  type Score,
  ScoreCheckpoint,
  type StoredCheckpoint,
  checkpointStores,
  loadLane,
  modelCache,
  openBucket,
  openHeads,
  weightsCache,
  weightsKey,
  openRunRecord,
  refKey,
  startRolePool,
  useThreads,
} from "../cast/mod.js";
import { scoreViaPool } from "./pool-score.js";
import { type AgpGateSettings, answerAgpGate } from "./agp.js";
import { scoreModel } from "./score.js";

type Config = { threads?: number; pool?: PoolRoleConfig } | undefined;

interface Stored {
  readonly score: Score;
  readonly job?: string;
  readonly step?: number;
}

let agpAnswers: RunState<Omit<AgpGateAnswer, "cached">> | null = null;
let weights: ReturnType<typeof weightsCache> | null = null;
let threads = 1;

let spec: RunSpec | null = null;
let evals: RunState<Stored> | null = null;
let models: ReturnType<typeof modelCache> | null = null;
/** Scores a checkpoint on items: with the local kernels, or on the pool. */
let scorer: ((ref: StoredCheckpoint, items: Parameters<typeof scoreModel>[1]) => Promise<Score>) | null = null;
let closePool: (() => Promise<void>) | null = null;

async function score(ref: StoredCheckpoint, lane: string, job?: string): Promise<{ score: Score; cached: boolean }> {
  const key = `${refKey(ref)}.${lane}`;
  const known = (await evals!.get(key))?.value;
  if (known) return { score: known.score, cached: true };
  const items = (await loadLane(spec!, lane)).items;
  const s = await scorer!(ref, items);
  await evals!.put(key, { score: s, ...(job ? { job, step: ref.step } : {}) });
  if (job) await evals!.put(`traj.${job}.${String(ref.step).padStart(8, "0")}`, { score: s, job, step: ref.step });
  return { score: s, cached: false };
}

export default defineActor<Config>({
  role: "evaluator",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })), pool: t.optional(PoolConfigSchema) })),
  async onStart(ctx) {
    threads = ctx.config?.threads ?? 1;
    useThreads(threads);
    spec = await (await openRunRecord(ctx.nc, ctx.run, ctx.address)).spec();
    evals = await openBucket<Stored>(ctx.nc, ctx.run, BUCKETS.evals, ctx.address);
    agpAnswers = await openBucket<Omit<AgpGateAnswer, "cached">>(ctx.nc, ctx.run, BUCKETS.evals, ctx.address);
    const stores = checkpointStores(ctx.nc);
    models = modelCache(stores);
    const heads = openHeads(ctx.nc, ctx.run);
    weights = weightsCache(stores, () => heads);
    scorer = async (ref, items) => scoreModel(await models!(ref), items);
    const cfg = ctx.config?.pool;
    if (cfg) {
      const p = await startRolePool({ nc: ctx.nc, run: ctx.run, address: ctx.address, role: "evaluator", cfg, log: ctx.log });
      // one checkpoint at a time: the workers serve one model, and switching means a compile
      let chain: Promise<unknown> = Promise.resolve();
      scorer = (ref, items) => {
        const next = chain.then(async () => {
          await p.use(ref);
          const s = await scoreViaPool(p.pool, items, spec!.model.block);
          p.touch();
          return s;
        });
        chain = next.catch(() => undefined);
        return next;
      };
      closePool = () => p.close();
    }
  },
  async onStop() {
    await closePool?.();
  },
  handlers: [
    on(CheckpointAnnounced, async (body, ctx) => {
      if (!body.evalLane) return;
      const r = await score(body.checkpoint, body.evalLane, body.jobId);
      ctx.log.info({ job: body.jobId, step: body.checkpoint.step, lane: body.evalLane, exactMatch: r.score.exactMatch, loss: r.score.loss }, "scored an announced checkpoint");
    }),
    on(ScoreCheckpoint, (body) => score(body.checkpoint, body.lane)),
    on(GateQuestion, async (body) => {
      const base = (await score(body.base, body.lane)).score;
      const adapted = (await score(body.adapted, body.lane, body.adapted.stage)).score;
      let metric: number;
      if (body.metric === "em_gain") metric = adapted.exactMatch - base.exactMatch;
      else if (body.metric === "heldout_gain") metric = (base.loss - adapted.loss) / base.loss;
      else throw new Error(`the evaluator does not measure ${body.metric} for stage ${body.stage} (it reports em_gain and heldout_gain)`);
      const prefix = `traj.${body.adapted.stage}.`;
      const trajectory = [];
      for (const k of (await evals!.keys()).filter((k) => k.startsWith(prefix)).sort()) {
        const e = (await evals!.get(k))?.value;
        if (e) trajectory.push({ step: e.step ?? 0, exactMatch: e.score.exactMatch, loss: e.score.loss });
      }
      return { metric, base, adapted, trajectory };
    }),
    on(AgpGateQuestion, async (body, ctx) => {
      const id = createHash("sha256").update(JSON.stringify([weightsKey(body.weights), body.before ? weightsKey(body.before) : null, body.lane, body.evalLane, body.threshold ?? null, body.settings])).digest("hex").slice(0, 16);
      const key = `agp.s${body.stage}.a${body.attempt}.${id}`;
      const known = (await agpAnswers!.get(key))?.value;
      if (known) return { ...known, cached: true };
      const t0 = performance.now();
      const a = await answerAgpGate({ spec: spec!, nc: ctx.nc, weights: weights!, threads }, {
        stage: body.stage, threshold: body.threshold, lane: body.lane, evalLane: body.evalLane, weights: body.weights, before: body.before,
        settings: (body.settings ?? {}) as AgpGateSettings,
      });
      await agpAnswers!.put(key, a);
      ctx.log.info({ stage: body.stage, attempt: body.attempt, ms: Math.round(performance.now() - t0) }, "answered a head stage's gate question");
      return { ...a, cached: false };
    }),
  ],
});
