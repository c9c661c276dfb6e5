// A small cluster for the host drills: one nats-server (JetStream, its own store, kept across
// kill/restart) and one host agent process per host the scenario declares, each started through
// an optional wrapper — loopback otherwise — or, with `namespaces`, on the multi-host rig
// (hosts/rig): each agent (and every actor it forks) in a network namespace of its own, pinned to
// its own core, its links on the namespace's data address (a veth pair between two hosts), the
// nats-server on the rig's control bridge where every namespace reaches it. Everything is
// stopped by stop(), even after a failure half-way.
import { type NatsServerHandle, type NatsServerOptions, type Rig, createRig, startNatsServer, sweepRigs } from "../../hosts/mod.js";
import { type AgentProcess, spawnHostAgent } from "../agent/mod.js";

export interface ClusterOptions {
  readonly hosts: readonly string[];
  /** cores each agent offers (default 1: one actor's kernel threads per host) */
  readonly cores?: number;
  readonly beatMs?: number;
  /** the argv each host's agent is started through (default none: this machine, loopback) */
  readonly wrap?: (host: string, index: number) => readonly string[];
  /** one network namespace per host, pinned to its own core (needs root; overrides wrap) */
  readonly namespaces?: boolean;
  /** the data links' tc rate on the rig (default unshaped) */
  readonly rate?: string | null;
  readonly server?: NatsServerOptions;
}

/** Where a host of the cluster runs. */
export interface ClusterHost {
  readonly name: string;
  /** its network namespace, null on loopback */
  readonly namespace: string | null;
  /** the cores it is pinned to, null when not pinned */
  readonly cpus: readonly number[] | null;
  /** the address its links listen on */
  readonly linkAddress: string;
}

export interface Cluster {
  readonly kind: "namespaces" | "loopback";
  readonly server: NatsServerHandle;
  readonly agents: ReadonlyMap<string, AgentProcess>;
  readonly hosts: readonly ClusterHost[];
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  let rig: Rig | null = null;
  if (o.namespaces) {
    sweepRigs();
    rig = createRig({ hosts: o.hosts.length, rate: o.rate ?? null });
  }
  let server: NatsServerHandle;
  try {
    server = await startNatsServer({ ...(o.server ?? {}), ...(rig ? { host: rig.natsAddress } : {}) });
  } catch (err) {
    rig?.destroy();
    throw err;
  }
  const hosts: ClusterHost[] = o.hosts.map((name, i) => {
    const h = rig?.hosts[i];
    return h ? { name, namespace: h.namespace, cpus: [...h.cpus], linkAddress: h.dataAddress } : { name, namespace: null, cpus: null, linkAddress: "127.0.0.1" };
  });
  const agents = new Map<string, AgentProcess>();
  const stop = async () => {
    await Promise.all([...agents.values()].map((a) => Promise.race([a.stop(), new Promise((r) => setTimeout(r, 10_000))]).then(() => a.kill())));
    await server.stop();
    rig?.destroy();
  };
  try {
    const started = await Promise.allSettled(
      o.hosts.map(async (name, i) => {
        const h = rig?.hosts[i];
        const wrap = rig ? rig.prefix(i) : o.wrap?.(name, i);
        const a = await spawnHostAgent(
          { natsUrl: server.url, name, cores: o.cores ?? 1, beatMs: o.beatMs ?? 1000, links: [h ? { address: h.dataAddress, interface: h.dataInterface } : { address: "127.0.0.1", interface: "lo" }] },
          {
            ...(wrap ? { wrap } : {}),
            // pinned to its cores: its actors' kernels use that many threads
            env: { TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? "warn", ...(h ? { TROUPE_THREADS: String(h.cpus.length) } : {}) },
          },
        );
        agents.set(name, a);
      }),
    );
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    await stop();
    throw err;
  }
  return { kind: rig ? "namespaces" : "loopback", server, agents, hosts, stop };
}
