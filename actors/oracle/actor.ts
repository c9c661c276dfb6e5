// The oracle labeler (role "oracle"): takes prompt batches from the run's oracle work queue —
// several oracles share it, one batch at a time each — labels every response token of a batch
// with a full-depth pass of the frozen stage model (label.ts), and stores the label batch in the
// run's label stream with the job id as message id, then acknowledges the job. Killed mid-batch,
// its batch comes back to an oracle after the ack wait and is labelled again; killed after
// storing but before acknowledging, the second store is a duplicate the stream drops. Nothing
// is lost and nothing counts twice.
//
// It runs the model itself rather than asking the teacher: shipping every candidate layer's
// hidden states and the logits of a batch through NATS would exceed max_payload at these sizes
// and repeat the teacher's work; the labels are the same function of the same checkpoint.
// Config: threads (default 1), and knobs for drills and tests: holdMs (wait this long between
// storing a batch and acknowledging it, the window a kill lands in), holdBatches (hold only the
// first this many batches this process stores; default every batch) and dedup (false: store
// without the message id, so the duplicate counter can be seen to move).
import type { AgpItem } from "../../models/mod.js";
import { createStamper, t } from "../../protocol/mod.js";
import { pause } from "../../hosts/mod.js";
import { defineActor } from "../runtime/mod.js";
import {
  type OracleJobBody,
  type RunSpec,
  checkpointStores,
  ensureLabelStream,
  loadLane,
  modelCache,
  withoutPrompts,
  openOracleQueue,
  openRunRecord,
  publishLabels,
  refKey,
  useThreads,
} from "../cast/mod.js";
import { labelBatch, referenceNormsOf } from "./label.js";

type Config = { threads?: number; holdMs?: number; holdBatches?: number; dedup?: boolean } | undefined;

export default defineActor<Config>({
  role: "oracle",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })), holdMs: t.optional(t.int({ min: 0 })), holdBatches: t.optional(t.int({ min: 1 })), dedup: t.optional(t.boolean()) })),
  handlers: [],
  async onStart(ctx) {
    useThreads(ctx.config?.threads ?? 1);
    const spec: RunSpec = await (await openRunRecord(ctx.nc, ctx.run, ctx.address)).spec();
    const models = modelCache(checkpointStores(ctx.nc));
    const lanes = new Map<string, Promise<readonly AgpItem[]>>();
    const laneOf = (name: string, without?: string) => {
      const key = `${name}|${without ?? ""}`;
      let p = lanes.get(key);
      if (!p) {
        p = (async () => {
          const items = (await loadLane(spec, name)).items;
          return without ? withoutPrompts(items, (await loadLane(spec, without)).items).items : items;
        })();
        lanes.set(key, p);
      }
      return p;
    };
    const norms = new Map<string, Map<number, number>>();
    const stamper = createStamper(ctx.run, ctx.address);
    await ensureLabelStream(ctx.nc, ctx.run);
    const queue = await openOracleQueue(ctx.nc, ctx.run, ctx.address);
    let held = 0;
    await queue.process(async (job) => {
      const body: OracleJobBody = job.body;
      const items = await laneOf(body.lane, body.without);
      if (body.to > items.length || body.from >= body.to) throw new Error(`batch ${body.batch} asks for items [${body.from}, ${body.to}) of lane ${body.lane}, which has ${items.length}`);
      const model = await models(body.model);
      const key = JSON.stringify([refKey(body.model), body.reference, body.candidates]);
      let normRef = norms.get(key);
      if (!normRef) {
        const ref = (await laneOf(body.reference.lane, body.reference.without)).slice(body.reference.from, body.reference.to);
        norms.set(key, (normRef = referenceNormsOf(model, ref, body.candidates)));
      }
      const labels = labelBatch(model, items.slice(body.from, body.to), body, normRef);
      const stored = await publishLabels(ctx.nc, ctx.run, { ...labels, by: ctx.address, delivery: job.attempt }, { stamper, codec: ctx.codec, ...(ctx.config?.dedup === false ? { dedup: false } : {}) });
      ctx.log.info({ job: body.jobId, positions: labels.earliest.shape[0], duplicate: stored.duplicate, delivery: job.attempt }, "labelled a batch");
      if (ctx.config?.holdMs && held < (ctx.config.holdBatches ?? Infinity)) {
        held++;
        await pause(ctx.config.holdMs, ctx.signal);
      }
    }, { concurrency: 1, signal: ctx.signal });
  },
});
