// The teacher sidecar (role "teacher"): full-depth forward passes of a frozen checkpoint on
// request — logits, hidden states captured at the requested layers, the logit-lens argmax of
// each, and the masked loss — with concurrent requests batched into one pass. Stage 0 asks it
// for the capture that becomes the split-layer map; captured states it is asked to keep go to
// the run's Object Store (troupe_<run>_hidden) as f16 safetensors. With a `pool` in its
// config (scenario cast.teacher.pool) the passes run on an accelerator pool instead (pool.ts).
import { t, wireTensor } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import {
  OBJECT_BUCKETS, PoolConfigSchema, type PoolRoleConfig, type StoredCheckpoint, TeacherForward, checkpointStores, modelCache, refKey,
  startRolePool, useThreads,
} from "../cast/mod.js";
import { createBatcher } from "./batcher.js";
import { type ForwardWant, forwardMany } from "./forward.js";
import { forwardViaPool } from "./pool.js";

type Config = { threads?: number; windowMs?: number; maxRows?: number; pool?: PoolRoleConfig } | undefined;

interface Group {
  readonly ref: StoredCheckpoint;
  readonly layers: number[];
  readonly T: number;
  readonly want: ForwardWant;
}

let models: ReturnType<typeof modelCache> | null = null;
let batcher: ReturnType<typeof createBatcher<Group>> | null = null;
let closePool: (() => Promise<void>) | null = null;

export default defineActor<Config>({
  role: "teacher",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })), windowMs: t.optional(t.int({ min: 0 })), maxRows: t.optional(t.int({ min: 1 })), pool: t.optional(PoolConfigSchema) })),
  concurrency: 16,
  async onStart(ctx) {
    useThreads(ctx.config?.threads);
    models = modelCache(checkpointStores(ctx.nc));
    let run = async (g: Group, reqs: Parameters<typeof forwardMany>[1]) => forwardMany(await models!(g.ref), reqs, g.T, g.layers, g.want);
    const cfg = ctx.config?.pool;
    if (cfg) {
      const p = await startRolePool({ nc: ctx.nc, run: ctx.run, address: ctx.address, role: "teacher", cfg, log: ctx.log });
      run = async (g, reqs) => {
        await p.use(g.ref);
        const out = await forwardViaPool(p.pool, reqs, g.T, g.layers, g.want);
        p.touch();
        return out;
      };
      closePool = () => p.close();
    }
    batcher = createBatcher<Group>({ windowMs: ctx.config?.windowMs ?? 5, maxRows: ctx.config?.maxRows ?? 256, run });
  },
  async onStop() {
    await closePool?.();
  },
  handlers: [
    on(TeacherForward, async (body, ctx) => {
      const [B, T] = body.idx.shape as [number, number];
      if (body.targets && (body.targets.shape[0] !== B || body.targets.shape[1] !== T)) {
        throw new Error(`targets have shape [${body.targets.shape.join(",")}], idx [${B},${T}]`);
      }
      const want: ForwardWant = { ...body.want, store: body.storeAs !== undefined };
      const group: Group = { ref: body.checkpoint, layers: [...body.layers], T, want };
      const key = JSON.stringify([refKey(body.checkpoint), body.layers, T, want]);
      const i32 = (w: typeof body.idx) => new Int32Array(w.data.buffer.slice(w.data.byteOffset, w.data.byteOffset + w.data.byteLength));
      const r = await batcher!.submit(key, group, { idx: i32(body.idx), targets: body.targets ? i32(body.targets) : null, B });
      let stored;
      if (r.stored && body.storeAs) {
        const objects = await ctx.objects(OBJECT_BUCKETS.hidden);
        const s = await objects.put(body.storeAs, r.stored);
        stored = { name: s.name, bytes: s.size, digest: s.digest };
      }
      const L = body.layers.length;
      // the shapes from the answer itself: a pooled teacher never loads the model here
      const V = r.logits ? r.logits.length / (B * T) : 0;
      const C = r.hidden && L > 0 ? r.hidden.length / (L * B * T) : 0;
      return {
        ...(r.logits ? { logits: wireTensor("f32", [B, T, V], r.logits) } : {}),
        ...(r.hidden ? { hidden: wireTensor("f32", [L, B, T, C], r.hidden) } : {}),
        ...(r.lens ? { lens: wireTensor("i32", [L + 1, B, T], r.lens) } : {}),
        lossSum: r.lossSum,
        tokens: r.tokens,
        ...(stored ? { stored } : {}),
        batchedWith: r.batchedWith,
      };
    }),
  ],
});
