// The transfer encoder (role "transfer_encoder"): the sending side of hidden-state transfer.
// Asked to measure a codec at a split layer on a batch, it runs the frozen stage model up to the
// split, encodes the residual-stream state into a packet with the codec (models/transfer: a
// 48-byte header with magic, version and CRC-32, then the payload; `learned` uses the stage-5
// transfer adapter at that layer, with the route/vitality heads' probabilities as its context)
// and has the packet decoded:
// - on one machine (or with the decoder on this encoder's host), by a transfer decoder over NATS;
// - on hosts, with the decoder on another host, twice from the same bytes: here, by this host's
//   own receiver (the same-host path), and over a link by the decoder on the other host (the
//   cross-host path, link.ts) — the reply carries both, so stage 5 compares them in one run.
import { fromArray, noGrad } from "../../kernels/mod.js";
import { type TransferAdapter, createCodec, createPacketCounters, dimsOf, headAt, headContext, resolveCodecName } from "../../models/mod.js";
import { type WireTensor, t, typedView, wireTensor } from "../../protocol/mod.js";
import { type EndpointRegistry, openEndpointRegistry } from "../../hosts/mod.js";
import { type ActorContext, defineActor, on } from "../runtime/mod.js";
import { TransferMeasure, TransferPacket, checkpointStores, openHeads, useThreads, weightsCache } from "../cast/mod.js";
import { type TransferLinkClient, decoderEndpoint, dialTransferLink } from "./link.js";
import { resumeAndCompare } from "./measure.js";

type Config = { threads?: number } | undefined;

let weights: ReturnType<typeof weightsCache> | null = null;
const counters = createPacketCounters();
/** the decoder endpoint last seen (its publication time) and the link to it, null when it shares this host */
let route: { at: number; client: TransferLinkClient | null } | null = null;
let registry: EndpointRegistry | null = null;

/** How long an encoder on a host waits for the decoder to publish its link endpoint. */
const DECODER_LOOKUP_MS = 60_000;

/**
 * The link to the transfer decoder when it runs on another host; null when this encoder is not
 * on a host or the decoder shares its host. Looked up on every packet (one KV read): a decoder
 * that restarted or moved publishes a new endpoint, and the next packet follows it.
 */
async function decoderOnAnotherHost(ctx: ActorContext<Config>): Promise<TransferLinkClient | null> {
  if (!process.env.TROUPE_LINK_ADDRESS) return null; // not placed on a host
  registry ??= await openEndpointRegistry(ctx.nc, ctx.run);
  const name = decoderEndpoint("0");
  const endpoint = (await registry.get(name)) ?? (await registry.lookup(name, { timeoutMs: DECODER_LOOKUP_MS }));
  if (route && route.at === endpoint.at && !route.client?.closedError()) return route.client;
  route?.client?.close();
  route = null;
  if (endpoint.hostName === ctx.host) {
    route = { at: endpoint.at, client: null };
    return null;
  }
  const client = await dialTransferLink({ nc: ctx.nc, run: ctx.run, from: `transfer_encoder.${ctx.id}`, endpoint });
  ctx.log.info({ decoder: endpoint.name, host: endpoint.hostName, address: `${endpoint.host}:${endpoint.port}` }, "stage-5 packets go over a link to the decoder on another host");
  route = { at: endpoint.at, client };
  return client;
}

export default defineActor<Config>({
  role: "transfer_encoder",
  config: t.optional(t.object({ threads: t.optional(t.int({ min: 0, max: 64 })) })),
  async onStart(ctx) {
    useThreads(ctx.config?.threads ?? 1);
    const heads = openHeads(ctx.nc, ctx.run);
    weights = weightsCache(checkpointStores(ctx.nc), () => heads);
  },
  async onStop() {
    route?.client?.close();
  },
  handlers: [
    on(TransferMeasure, async (body, ctx) => {
      const w = await weights!(body.weights);
      const { model, heads } = w;
      const [B, T] = body.idx.shape as [number, number];
      const name = resolveCodecName(body.codec);
      const adapter = name === "learned" ? headAt<TransferAdapter>(heads, "transfer", body.layer) : null;
      if (name === "learned" && !adapter) throw new Error(`the learned codec at index ${body.layer} needs a trained transfer adapter there (the weights have none)`);
      const codec = createCodec(name, adapter ? { adapter } : {});
      const t0 = performance.now();
      const packet = noGrad(() => {
        const idx = fromArray(Int32Array.from(typedView(body.idx as WireTensor & { dtype: "i32" })), [B, T]);
        const hidden = model.forwardWithHidden(idx, { capture: [body.layer] }).hidden[body.layer]!;
        const context = name === "learned" ? headContext(model, heads, body.layer, hidden) : null;
        return codec.encode(Float32Array.from(hidden.f32()), { B, T, C: dimsOf(model).channels, layer: body.layer }, context);
      });
      const encodeMs = performance.now() - t0;
      const link = await decoderOnAnotherHost(ctx);
      const sent = { bytes: packet.byteLength, tokens: B * T, encodeMs, host: ctx.host };
      if (!link) {
        const r = await ctx.choose("transfer_decoder", TransferPacket, { weights: body.weights, packet, idx: body.idx, mask: body.mask }, { timeoutMs: 60_000 });
        return { kl: r.kl, agree: r.agree, counted: r.counted, payloadBytes: r.payloadBytes, decodeMs: r.decodeMs, decoder: r.decoder, ...sent };
      }
      // the same bytes twice: this host's receiver, then the decoder on the other host over the link
      const same = resumeAndCompare(w, packet, body.idx, body.mask, counters);
      const t1 = performance.now();
      const m = await link.measure({ weights: body.weights, idx: body.idx, mask: body.mask }, packet);
      const roundTripMs = performance.now() - t1;
      return {
        kl: wireTensor("f32", [same.kl.length], same.kl), agree: same.agree, counted: same.counted, payloadBytes: same.payloadBytes, decodeMs: same.decodeMs,
        decoder: `${ctx.address} (same host)`,
        ...sent,
        crossHost: { host: link.peerHost, decoder: link.peer, kl: m.kl, agree: m.agree, counted: m.counted, payloadBytes: m.payloadBytes, receivedBytes: m.receivedBytes, decodeMs: m.decodeMs, roundTripMs },
      };
    }),
  ],
});
