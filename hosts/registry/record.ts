// What a host agent tells the cluster about itself: one record per host in the registry
// (hosts/registry/registry.ts), rewritten at every heartbeat. Capabilities (cores, memory,
// kernel set, backends, tags, the addresses its links listen on), what is placed on it and how
// those actors are doing, per run. Everything a director needs to place a cast and to notice
// that a host or one of its actors is gone.
import { readFileSync } from "node:fs";
import { availableParallelism, freemem, hostname, networkInterfaces, totalmem } from "node:os";
import { kernelInfo } from "../../kernels/mod.js";
import { type Infer, t } from "../../protocol/mod.js";

export const HOST_STATES = ["up", "leaving"] as const;
export type HostState = (typeof HOST_STATES)[number];

const name = () => t.string({ minLength: 1, maxLength: 64 });

/** One actor a host runs for a run, as its supervisor sees it. */
export const HostedActorSchema = t.object({
  role: name(),
  id: name(),
  /** starting | running | backoff | stopping | stopped (the supervisor's child states) */
  state: t.string({ maxLength: 16 }),
  pid: t.optional(t.int({ min: 0 })),
  restarts: t.int({ min: 0 }),
});
export type HostedActor = Infer<typeof HostedActorSchema>;

/** What a host runs for one run. */
export const HostedRunSchema = t.object({
  run: name(),
  /** the director lease epoch of the placement it follows */
  epoch: t.int({ min: 0 }),
  actors: t.array(HostedActorSchema, { maxLength: 256 }),
  /** why its supervisor gave up on the run's actors here (restart intensity), if it did */
  escalated: t.optional(t.string({ maxLength: 2000 })),
});
export type HostedRun = Infer<typeof HostedRunSchema>;

/** An address this host's links listen on, in the form links publish endpoints (LinkEndpoint.host). */
export const LinkAddressSchema = t.object({
  address: t.string({ minLength: 1, maxLength: 255 }),
  /** the network interface it belongs to (GLOO_SOCKET_IFNAME for peers), when known */
  interface: t.optional(t.string({ maxLength: 64 })),
});
export type LinkAddress = Infer<typeof LinkAddressSchema>;

export const HostRecordSchema = t.object({
  name: name(),
  /** a random id per agent process: a restarted agent under the same name is a new instance */
  instance: t.string({ minLength: 1, maxLength: 64 }),
  state: t.oneOf(HOST_STATES),
  pid: t.int({ min: 0 }),
  /** the machine's own hostname */
  machine: t.string({ maxLength: 255 }),
  version: t.string({ maxLength: 64 }),
  tags: t.array(name(), { maxLength: 64 }),
  cores: t.int({ min: 1 }),
  memoryMb: t.int({ min: 0 }),
  freeMemoryMb: t.int({ min: 0 }),
  /** compute backends it offers: cpu, and mlx / neuron when a worker for them is present */
  backends: t.array(name(), { maxLength: 16 }),
  /** the kernel set its actors run (TROUPE_KERNELS resolved) and the CPU features behind it */
  kernels: t.object({ mode: t.string({ maxLength: 32 }), avx2: t.boolean(), avx512: t.boolean(), neon: t.boolean(), blas: t.optional(t.string({ maxLength: 64 })) }),
  /** where links to this host's actors listen */
  links: t.array(LinkAddressSchema, { maxLength: 16 }),
  /** heartbeat period */
  beatMs: t.int({ min: 10 }),
  /** heartbeats so far (the first record is 0) */
  seq: t.int({ min: 0 }),
  startedAt: t.number(),
  /** when this record was written, by the host's clock (display only: detection uses the reader's clock) */
  beatAt: t.number(),
  /** cores the actors placed here asked for, and how many actors that is */
  load: t.object({ actors: t.int({ min: 0 }), cores: t.number({ min: 0 }) }),
  runs: t.array(HostedRunSchema, { maxLength: 256 }),
});
export type HostRecord = Infer<typeof HostRecordSchema>;

let version: string | null = null;
/** troupe's version (package.json), "unknown" when it cannot be read. */
export function troupeVersion(): string {
  if (version === null) {
    try {
      version = String((JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown");
    } catch {
      version = "unknown";
    }
  }
  return version;
}

export interface Capabilities {
  readonly cores: number;
  readonly memoryMb: number;
  readonly freeMemoryMb: number;
  readonly backends: readonly string[];
  readonly kernels: HostRecord["kernels"];
  readonly machine: string;
}

/** This machine's capabilities; `cores` overrides the core count (a host may offer fewer). */
export function localCapabilities(o: { cores?: number; backends?: readonly string[] } = {}): Capabilities {
  const k = kernelInfo();
  return {
    cores: o.cores ?? availableParallelism(),
    memoryMb: Math.floor(totalmem() / 2 ** 20),
    freeMemoryMb: Math.floor(freemem() / 2 ** 20),
    backends: o.backends ?? ["cpu"],
    kernels: { mode: k.kernels, avx2: k.cpu.avx2, avx512: k.cpu.avx512, neon: k.cpu.neon, ...(k.blas ? { blas: k.blas } : {}) },
    machine: hostname(),
  };
}

/** Free cores: what the host offers minus what its placed actors asked for (never below 0). */
export function freeCores(r: Pick<HostRecord, "cores" | "load">): number {
  return Math.max(0, r.cores - r.load.cores);
}

/**
 * The link address a host advertises when none is given: the first non-internal IPv4 address
 * of this machine (in a network namespace: its first interface's), else 127.0.0.1.
 */
export function localLinkAddresses(): LinkAddress[] {
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    const v4 = (addrs ?? []).find((a) => a.family === "IPv4" && !a.internal);
    if (v4) return [{ address: v4.address, interface: iface }];
  }
  return [{ address: "127.0.0.1", interface: "lo" }];
}
