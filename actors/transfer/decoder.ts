// The transfer decoder (role "transfer_decoder"): the receiving side of hidden-state transfer.
// A packet is decoded with the counting receiver (measure.ts: length, magic, version, codec,
// shape, announced length, CRC-32, the payload's values, and for a learned packet that this
// decoder holds the adapter whose id it carries); a refused packet is counted by reason and the
// call fails with that reason — never a crash. A decoded state resumes the frozen stage model's
// forward pass from its split layer; the reply carries KL(no transfer ‖ resumed) of every
// counted position and the top-1 agreement.
// Packets come over NATS (TransferPacket, on one machine) or, when the decoder runs on a host
// (its agent sets TROUPE_LINK_ADDRESS), over links from encoders on other hosts (link.ts).
import { createPacketCounters } from "../../models/mod.js";
import { t } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";
import { TransferCounters, TransferPacket, checkpointStores, openHeads, useThreads, weightsCache } from "../cast/mod.js";
import { type TransferLinkServer, serveTransferLinks } from "./link.js";
import { resumeAndCompare } from "./measure.js";
import { wireTensor } from "../../protocol/mod.js";

type Config = { threads?: number } | undefined;

let weights: ReturnType<typeof weightsCache> | null = null;
let server: TransferLinkServer | null = null;
const counters = createPacketCounters();

export default defineActor<Config>({
  role: "transfer_decoder",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })) })),
  async onStart(ctx) {
    useThreads(ctx.config?.threads ?? 1);
    const heads = openHeads(ctx.nc, ctx.run);
    weights = weightsCache(checkpointStores(ctx.nc), () => heads);
    const address = process.env.TROUPE_LINK_ADDRESS;
    if (address) {
      server = await serveTransferLinks({
        nc: ctx.nc, run: ctx.run, id: ctx.id, address, hostName: ctx.host, log: ctx.log,
        measure: async (f, packet) => resumeAndCompare(await weights!(f.weights), packet, f.idx, f.mask, counters),
      });
      ctx.log.info({ host: server.endpoint.host, port: server.endpoint.port }, "listening for packets over links");
    }
  },
  async onStop() {
    await server?.close();
  },
  handlers: [
    on(TransferPacket, async (body, ctx) => {
      let r;
      try {
        r = resumeAndCompare(await weights!(body.weights), body.packet, body.idx, body.mask, counters);
      } catch (err) {
        const e = err as Error & { reason?: string };
        if (e.reason) ctx.log.warn({ reason: e.reason, err: e.message }, "refused a hidden-state packet");
        throw err;
      }
      return { kl: wireTensor("f32", [r.kl.length], r.kl), agree: r.agree, counted: r.counted, payloadBytes: r.payloadBytes, decodeMs: r.decodeMs, decoder: ctx.address };
    }),
    on(TransferCounters, () => ({ received: counters.received, decoded: counters.decoded, rejected: counters.rejected, rejectedByReason: { ...counters.rejectedByReason } })),
  ],
});
