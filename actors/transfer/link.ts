// Stage 5 across hosts: the transfer packet over a link (hosts/links), not through NATS. A
// transfer decoder placed on a host (its agent sets TROUPE_LINK_ADDRESS) listens for links on
// that address and publishes its endpoint `transfer_decoder.<id>` in the run's endpoint registry
// (KV, like Thunder-Train's ranks). An encoder on another host dials it and sends each packet as
// a link attachment — the packet's bytes exactly as models/transfer wrote them, the same bytes
// the same-host path decodes — with the prompts (idx, mask) in the frame's body; the decoder
// answers on the same link with its measurement, or with the receiver's refusal (a corrupted
// packet fails its CRC and is refused, counted by reason, never decoded).
import { LinkClosedError, type Link, type LinkEndpoint, type LinkListener, type Logger, type NatsConnection, dialLink, listenLinks, openEndpointRegistry } from "../../hosts/mod.js";
import { type Infer, wireTensor } from "../../protocol/mod.js";
import { TransferLinkMeasured, TransferLinkPacket } from "../cast/mod.js";
import { TransferRefusedError } from "../errors.js";
import type { Resumed } from "./measure.js";

export const PACKET_KIND = "transfer.packet";
export const MEASURED_KIND = "transfer.measured";
export const REFUSED_KIND = "transfer.refused";

/** The decoder's endpoint name in the run's link registry. */
export const decoderEndpoint = (id: string) => `transfer_decoder.${id}`;

/**
 * A decode can hold the decoder's event loop for seconds on a loaded core (its heartbeats stop
 * meanwhile); a peer that exits closes the socket at once, so a long silence bound costs nothing.
 */
const TRANSFER_LINK_TIMING = { heartbeatMs: 1000, deadAfterMs: 15 * 60_000 } as const;

export type PacketFrame = Infer<typeof TransferLinkPacket>;
export type MeasuredFrame = Infer<typeof TransferLinkMeasured>;

export interface TransferLinkServer {
  readonly endpoint: LinkEndpoint;
  close(): Promise<void>;
}

/** The decoder's side: listen on `address`, publish the endpoint, measure every packet that arrives. */
export async function serveTransferLinks(o: {
  nc: NatsConnection;
  run: string;
  id: string;
  address: string;
  hostName: string;
  log: Logger;
  measure: (frame: PacketFrame, packet: Uint8Array) => Promise<Resumed>;
}): Promise<TransferLinkServer> {
  const name = decoderEndpoint(o.id);
  const links = new Set<Link>();
  const listener: LinkListener = await listenLinks({
    name, run: o.run, host: o.address, ...TRANSFER_LINK_TIMING,
    onLink: (link) => {
      links.add(link);
      void link.closed.then(() => links.delete(link));
      // one packet at a time per link, in order (the encoder waits for each answer anyway)
      let chain = Promise.resolve();
      link.handle({
        frame: (env, att) => {
          if (env.kind !== PACKET_KIND) return;
          const seq = (env.body as { seq?: unknown })?.seq;
          chain = chain.then(async () => {
            try {
              const f = TransferLinkPacket.parse(env.body, PACKET_KIND);
              if (!att) throw new TransferRefusedError("no_packet", "the frame carried no packet attachment");
              const r = await o.measure(f, att);
              const reply: MeasuredFrame = { seq: f.seq, kl: wireTensor("f32", [r.kl.length], r.kl), agree: r.agree, counted: r.counted, payloadBytes: r.payloadBytes, decodeMs: r.decodeMs, receivedBytes: att.byteLength };
              await link.send(MEASURED_KIND, reply);
            } catch (err) {
              const e = err as Error & { reason?: string };
              o.log.warn({ reason: e.reason, err: e.message, from: link.peer }, "refused a hidden-state packet that came over a link");
              await link.send(REFUSED_KIND, { seq, reason: e.reason ?? "error", message: e.message }).catch(() => undefined);
            }
          });
        },
      });
    },
  });
  const reg = await openEndpointRegistry(o.nc, o.run);
  const endpoint = await reg.publish({ name, host: listener.host, port: listener.port, hostName: o.hostName, meta: { pid: process.pid } });
  return {
    endpoint,
    async close() {
      for (const l of links) l.close("the decoder stops");
      await listener.close();
      await reg.remove(name).catch(() => undefined);
    },
  };
}

export interface TransferLinkClient {
  /** the decoder's host (its registered hostName) */
  readonly peerHost: string;
  readonly peer: string;
  /** why the link is unusable (closed, peer dead), or null */
  closedError(): Error | null;
  measure(frame: Omit<PacketFrame, "seq">, packet: Uint8Array, o?: { timeoutMs?: number }): Promise<MeasuredFrame>;
  close(): void;
}

/** The encoder's side: dial the decoder's endpoint once and send packets over that link. */
export async function dialTransferLink(o: { nc: NatsConnection; run: string; from: string; endpoint: LinkEndpoint }): Promise<TransferLinkClient> {
  const link = await dialLink({ name: o.from, peer: o.endpoint.name, run: o.run, host: o.endpoint.host, port: o.endpoint.port, ...TRANSFER_LINK_TIMING });
  let seq = 0;
  const waiting = new Map<number, { resolve: (m: MeasuredFrame) => void; reject: (e: Error) => void }>();
  link.handle({
    frame: (env) => {
      const b = env.body as { seq: number; reason?: string; message?: string };
      const w = waiting.get(b.seq);
      if (!w) return;
      waiting.delete(b.seq);
      if (env.kind === MEASURED_KIND) {
        try {
          w.resolve(TransferLinkMeasured.parse(env.body, MEASURED_KIND));
        } catch (err) {
          w.reject(err as Error);
        }
      }
      else if (env.kind === REFUSED_KIND) w.reject(new TransferRefusedError(b.reason ?? "error", `the decoder on ${o.endpoint.hostName} refused the packet: ${b.message ?? b.reason}`));
    },
  });
  void link.closed.then((why) => {
    for (const w of waiting.values()) w.reject(why ?? new LinkClosedError(o.endpoint.name, "closed by the encoder"));
    waiting.clear();
  });
  return {
    peerHost: o.endpoint.hostName,
    peer: o.endpoint.name,
    closedError: () => link.error,
    async measure(frame, packet, m = {}) {
      if (link.error) throw link.error;
      const s = ++seq;
      const answer = new Promise<MeasuredFrame>((resolve, reject) => waiting.set(s, { resolve, reject }));
      await link.send(PACKET_KIND, { ...frame, seq: s }, packet);
      const timeoutMs = m.timeoutMs ?? 120_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([answer, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from ${o.endpoint.name} over the link within ${timeoutMs} ms`)), timeoutMs)))]);
      } finally {
        clearTimeout(timer);
        waiting.delete(s);
      }
    },
    close: () => link.close(),
  };
}
