// A small cluster for the host drills: one nats-server (JetStream, its own store, kept across
// kill/restart) and one host agent process per host the scenario declares, each started through
// an optional wrapper (the multi-host rig's `ip netns exec nsN taskset -c …`) — loopback
// otherwise. Everything is stopped by stop(), even after a failure half-way.
import { type NatsServerHandle, type NatsServerOptions, startNatsServer } from "../../hosts/mod.js";
import { type AgentProcess, spawnHostAgent } from "../agent/mod.js";

export interface ClusterOptions {
  readonly hosts: readonly string[];
  /** cores each agent offers (default 1: one actor's kernel threads per host) */
  readonly cores?: number;
  readonly beatMs?: number;
  /** the argv each host's agent is started through (default none: this machine, loopback) */
  readonly wrap?: (host: string, index: number) => readonly string[];
  readonly server?: NatsServerOptions;
}

export interface Cluster {
  readonly server: NatsServerHandle;
  readonly agents: ReadonlyMap<string, AgentProcess>;
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const server = await startNatsServer(o.server ?? {});
  const agents = new Map<string, AgentProcess>();
  const stop = async () => {
    await Promise.all([...agents.values()].map((a) => Promise.race([a.stop(), new Promise((r) => setTimeout(r, 10_000))]).then(() => a.kill())));
    await server.stop();
  };
  try {
    const started = await Promise.allSettled(
      o.hosts.map(async (name, i) => {
        const a = await spawnHostAgent(
          { natsUrl: server.url, name, cores: o.cores ?? 1, beatMs: o.beatMs ?? 1000, links: [{ address: "127.0.0.1", interface: "lo" }] },
          { ...(o.wrap ? { wrap: o.wrap(name, i) } : {}), env: { TROUPE_LOG_LEVEL: process.env.TROUPE_LOG_LEVEL ?? "warn" } },
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
  return { server, agents, stop };
}
