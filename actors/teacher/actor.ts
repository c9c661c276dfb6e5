// The teacher sidecar (role "teacher"): full-depth forward passes of a frozen checkpoint on
// request — logits, hidden states captured at the requested layers, the logit-lens argmax of
// each, and the masked loss — with concurrent requests batched into one pass. Stage 0 asks it
// for the capture that becomes the split-layer map; captured states it is asked to keep go to
// the run's Object Store (troupe_<run>_hidden) as f16 safetensors.
import { t, wireTensor } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import { OBJECT_BUCKETS, type StoredCheckpoint, TeacherForward, checkpointStores, modelCache, refKey, useThreads } from "../cast/mod.js";
import { createBatcher } from "./batcher.js";
import { type ForwardWant, forwardMany } from "./forward.js";

type Config = { threads?: number; windowMs?: number; maxRows?: number } | undefined;

interface Group {
  readonly ref: StoredCheckpoint;
  readonly layers: number[];
  readonly T: number;
  readonly want: ForwardWant;
}

let models: ReturnType<typeof modelCache> | null = null;
let batcher: ReturnType<typeof createBatcher<Group>> | null = null;

export default defineActor<Config>({
  role: "teacher",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })), windowMs: t.optional(t.int({ min: 0 })), maxRows: t.optional(t.int({ min: 1 })) })),
  concurrency: 16,
  async onStart(ctx) {
    useThreads(ctx.config?.threads);
    models = modelCache(checkpointStores(ctx.nc));
    batcher = createBatcher<Group>({
      windowMs: ctx.config?.windowMs ?? 5,
      maxRows: ctx.config?.maxRows ?? 256,
      run: async (g, reqs) => forwardMany(await models!(g.ref), reqs, g.T, g.layers, g.want),
    });
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
      const model = await models!(body.checkpoint);
      const { vocabSize: V, hidden: C } = model.dims;
      const L = body.layers.length;
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
