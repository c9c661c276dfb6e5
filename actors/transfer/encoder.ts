// The transfer encoder (role "transfer_encoder"): the sending side of hidden-state transfer.
// Asked to measure a codec at a split layer on a batch, it runs the frozen stage model up to the
// split, encodes the residual-stream state into a packet with the codec (models/transfer: a
// 48-byte header with magic, version and CRC-32, then the payload; `learned` uses the stage-5
// transfer adapter at that layer, with the route/vitality heads' probabilities as its context)
// and sends the packet to a transfer decoder, which resumes the forward pass from it and reports
// the fidelity. Same host in this build; the cross-host path (a link between hosts, the many-
// hosts issue) sends the same packet bytes unchanged.
import { fromArray, noGrad } from "../../kernels/mod.js";
import { type TransferAdapter, createCodec, dimsOf, headAt, headContext, resolveCodecName } from "../../models/mod.js";
import { type WireTensor, t, typedView } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import { TransferMeasure, TransferPacket, checkpointStores, openHeads, useThreads, weightsCache } from "../cast/mod.js";

type Config = { threads?: number } | undefined;

let weights: ReturnType<typeof weightsCache> | null = null;

export default defineActor<Config>({
  role: "transfer_encoder",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })) })),
  async onStart(ctx) {
    useThreads(ctx.config?.threads ?? 1);
    const heads = openHeads(ctx.nc, ctx.run);
    weights = weightsCache(checkpointStores(ctx.nc), () => heads);
  },
  handlers: [
    on(TransferMeasure, async (body, ctx) => {
      const { model, heads } = await weights!(body.weights);
      const [B, T] = body.idx.shape as [number, number];
      const C = dimsOf(model).channels;
      const name = resolveCodecName(body.codec);
      const adapter = name === "learned" ? headAt<TransferAdapter>(heads, "transfer", body.layer) : null;
      if (name === "learned" && !adapter) throw new Error(`the learned codec at index ${body.layer} needs a trained transfer adapter there (the weights have none)`);
      const codec = createCodec(name, adapter ? { adapter } : {});
      const t0 = performance.now();
      const packet = noGrad(() => {
        const idx = fromArray(Int32Array.from(typedView(body.idx as WireTensor & { dtype: "i32" })), [B, T]);
        const hidden = model.forwardWithHidden(idx, { capture: [body.layer] }).hidden[body.layer]!;
        const context = name === "learned" ? headContext(model, heads, body.layer, hidden) : null;
        return codec.encode(Float32Array.from(hidden.f32()), { B, T, C, layer: body.layer }, context);
      });
      const encodeMs = performance.now() - t0;
      const r = await ctx.choose("transfer_decoder", TransferPacket, { weights: body.weights, packet, idx: body.idx, mask: body.mask }, { timeoutMs: 60_000 });
      return {
        kl: r.kl,
        agree: r.agree,
        counted: r.counted,
        bytes: packet.byteLength,
        payloadBytes: r.payloadBytes,
        tokens: B * T,
        encodeMs,
        decodeMs: r.decodeMs,
        decoder: r.decoder,
      };
    }),
  ],
});
