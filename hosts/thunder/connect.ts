// Forming a ring: each rank listens on its data address, publishes `<group>.<rank>` in the
// endpoint registry, dials its left neighbour (the one it receives from, so the bulk lands
// through the dialer's zero-copy reads) and admits only its right neighbour of the same group
// and generation. A stale endpoint (an earlier generation) is never dialled, and a hello from
// one is refused.
import { GroupError } from "../errors.js";
import { type EndpointRegistry, type Link, type LinkListener, type LinkTiming, dialLink, listenLinks } from "../links/mod.js";

export interface RingLinksOptions extends LinkTiming {
  readonly run: string;
  /** the group's name: endpoints are `<group>.<rank>` */
  readonly group: string;
  /** bumped each time the group re-forms (after a member was lost) */
  readonly generation: number;
  readonly rank: number;
  readonly world: number;
  readonly registry: Pick<EndpointRegistry, "publish" | "lookup">;
  /** the address to listen on and advertise (this host's data address; default 127.0.0.1) */
  readonly address?: string;
  /** the troupe host this rank runs on (recorded in the registry) */
  readonly hostName?: string;
  /** give up forming the ring after this long (default 60 s) */
  readonly timeoutMs?: number;
}

export interface RingLinks {
  readonly toRight: Link;
  readonly fromLeft: Link;
  readonly listener: LinkListener;
  close(): Promise<void>;
}

export function endpointName(group: string, rank: number): string {
  return `${group}.${rank}`;
}

export async function connectRing(o: RingLinksOptions): Promise<RingLinks> {
  const { rank, world, group, generation } = o;
  if (world < 2) throw new GroupError(`a ring needs at least 2 ranks, got ${world}`);
  const left = (rank + world - 1) % world;
  const right = (rank + 1) % world;
  const me = endpointName(group, rank);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const timing = { heartbeatMs: o.heartbeatMs, deadAfterMs: o.deadAfterMs, maxQueuedBytes: o.maxQueuedBytes };
  let resolveRight!: (l: Link) => void;
  const fromRight = new Promise<Link>((r) => (resolveRight = r));
  const listener = await listenLinks({
    name: me, run: o.run, host: o.address ?? "127.0.0.1", ...timing,
    admit: (h) => {
      if (h.from !== endpointName(group, right)) return `rank ${rank} of ${group} takes its right neighbour ${endpointName(group, right)} only, not ${h.from}`;
      if (h.meta.generation !== generation) return `generation ${String(h.meta.generation)} is not the group's current ${generation}`;
      if (h.meta.world !== world) return `world ${String(h.meta.world)} differs from this rank's ${world}`;
      return null;
    },
    onLink: (l) => resolveRight(l),
  });
  const close = async () => {
    await listener.close();
  };
  try {
    await o.registry.publish({ name: me, host: listener.host, port: listener.port, hostName: o.hostName ?? "", meta: { group, generation, rank, world } });
    const peer = await o.registry.lookup(endpointName(group, left), { timeoutMs, accept: (e) => e.meta.generation === generation && e.meta.world === world });
    const fromLeft = await dialLink({
      name: me, peer: peer.name, run: o.run, host: peer.host, port: peer.port, ...timing,
      ...(o.address ? { localAddress: o.address } : {}),
      meta: { group, generation, rank, world },
    });
    let timer: NodeJS.Timeout | undefined;
    const toRight = await Promise.race([
      fromRight,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GroupError(`rank ${rank} of ${group}: its right neighbour (rank ${right}) did not connect within ${timeoutMs} ms`, [right])), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    await listener.close(); // the ring has its two links; nobody else may join this generation
    return { toRight, fromLeft, listener, close };
  } catch (err) {
    await close();
    if (err instanceof GroupError) throw err;
    throw new GroupError(`rank ${rank} of ${group} could not form the ring: ${(err as Error).message}`, [], { cause: err });
  }
}
