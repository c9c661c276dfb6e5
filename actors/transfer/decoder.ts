// The transfer decoder (role "transfer_decoder"): the receiving side of hidden-state transfer.
// A packet is decoded with the counting receiver (models/transfer receivePacket: length,
// magic, version, codec, shape, announced length, CRC-32, the payload's values, and for a
// learned packet that this decoder holds the adapter whose id it carries); a refused packet is
// counted by reason and the call fails with that reason — never a crash. A decoded state resumes
// the frozen stage model's forward pass from its split layer. For the fidelity measurement the
// no-transfer forward pass of the same prompts runs here too, and the reply carries
// KL(no transfer ‖ resumed) of every counted position and the top-1 agreement.
// Legend: B batch, T time, C channels, V vocab, n counted positions.
import { clone, fromArray, klDivergence, noGrad } from "../../kernels/mod.js";
import { type TransferAdapter, argmaxRows, createPacketCounters, dimsOf, headsOf, receivePacket } from "../../models/mod.js";
import { type WireTensor, t, typedView, wireTensor } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import { TransferCounters, TransferPacket, checkpointStores, openHeads, useThreads, weightsCache } from "../cast/mod.js";

type Config = { threads?: number } | undefined;

let weights: ReturnType<typeof weightsCache> | null = null;
const counters = createPacketCounters();

export default defineActor<Config>({
  role: "transfer_decoder",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })) })),
  async onStart(ctx) {
    useThreads(ctx.config?.threads ?? 1);
    const heads = openHeads(ctx.nc, ctx.run);
    weights = weightsCache(checkpointStores(ctx.nc), () => heads);
  },
  handlers: [
    on(TransferPacket, async (body, ctx) => {
      const { model, heads } = await weights!(body.weights);
      const t0 = performance.now();
      const got = receivePacket(body.packet, counters, { adapters: headsOf<TransferAdapter>(heads, "transfer") });
      if (!got.ok) {
        ctx.log.warn({ reason: got.error.reason, err: got.error.message }, "refused a hidden-state packet");
        throw got.error;
      }
      const { header, state } = got.value;
      const [B, T] = body.idx.shape as [number, number];
      if (header.B !== B || header.T !== T) throw new Error(`the packet carries [${header.B}, ${header.T}] tokens, the prompts are [${B}, ${T}]`);
      const V = dimsOf(model).vocab;
      const mask = typedView(body.mask as WireTensor & { dtype: "f32" });
      const out = noGrad(() => {
        const resumed = model.resumeFrom(fromArray(state, [B, T, header.C]), header.layer);
        const decodeMs = performance.now() - t0;
        const idx = fromArray(Int32Array.from(typedView(body.idx as WireTensor & { dtype: "i32" })), [B, T]);
        const full = clone(model.forwardWithHidden(idx).logits);
        const kl = klDivergence(resumed, full, { reduction: "none" }).f32();
        const a = argmaxRows(resumed.f32(), B * T, V);
        const b = argmaxRows(full.f32(), B * T, V);
        const kept: number[] = [];
        let agree = 0;
        for (let i = 0; i < B * T; i++) {
          if (!mask[i]) continue;
          kept.push(kl[i]!);
          if (a[i] === b[i]) agree++;
        }
        return { kl: Float32Array.from(kept), agree, decodeMs };
      });
      return { kl: wireTensor("f32", [out.kl.length], out.kl), agree: out.agree, counted: out.kl.length, payloadBytes: header.payloadBytes, decodeMs: out.decodeMs, decoder: ctx.address };
    }),
    on(TransferCounters, () => ({ received: counters.received, decoded: counters.decoded, rejected: counters.rejected, rejectedByReason: { ...counters.rejectedByReason } })),
  ],
});
