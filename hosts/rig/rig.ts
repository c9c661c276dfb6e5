// The multi-host rig: N "hosts" on one machine, each a network namespace with its own CPU set,
// joined by a data link that `tc tbf` shapes to a chosen rate, and a control network on which
// one nats-server in the root namespace is reachable from all of them.
//
//   root namespace:   bridge trp-…b 10.231.<net>.1/24  ← nats-server listens here
//                        │ veth (unshaped)        │
//   host i (netns):   ctl0 10.231.<net>.<10+i>    data0 10.232.<net>.<1+i>  (tbf rate R)
//                                                   │
//   N = 2: one veth pair between the two data0 ends. N > 2: each data0 is a veth to an
//   L2 bridge trp-…s in the root namespace (no address there), shaped on both ends, so every
//   host's link has rate R each way like a port on a switch.
//
// Processes run in a host with `ip netns exec <ns> taskset -c <cpus> …` (see spawn/argv), so
// "two hosts" means twice the cores. destroy() removes everything (also on exit and on
// SIGINT/SIGTERM); sweepRigs() removes what a SIGKILLed owner left. Needs root.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { RigError } from "../errors.js";
import { trackServer, untrackServer } from "../nats/cleanup.js";
import { requireRoot, run, systemBinary } from "./command.js";
import { type RigNames, allocateNames, releaseNet } from "./names.js";
import { checkRate, tbfArgs } from "./shape.js";

export interface RigOptions {
  /** number of hosts (namespaces), 2-32 */
  readonly hosts: number;
  /** tc rate of every data link ("1gbit", "10gbit", "20gbit", ...); null/undefined: unshaped */
  readonly rate?: string | null;
  /** CPU set of each host (default: host i gets core i mod the machine's cores) */
  readonly cpus?: readonly (readonly number[])[];
  /** MTU of the data links (default 1500, Ethernet) */
  readonly mtu?: number;
}

export interface RigHost {
  readonly index: number;
  /** "h0", "h1", … (valid as a troupe host name) */
  readonly name: string;
  readonly namespace: string;
  /** where this host reaches nats-server's network and is reached for control traffic */
  readonly controlAddress: string;
  /** the address of its shaped data link (links listen here) */
  readonly dataAddress: string;
  /** interface name of the data link inside the namespace (GLOO_SOCKET_IFNAME for peers) */
  readonly dataInterface: string;
  readonly cpus: readonly number[];
}

export interface Rig {
  readonly id: string;
  readonly hosts: readonly RigHost[];
  /** the root-namespace address every host reaches; start nats-server with host = this */
  readonly natsAddress: string;
  /** current tc rate of the data links, null when unshaped */
  readonly rate: string | null;
  /** argv that runs `cmd args` inside host i, pinned to its CPU set */
  argv(host: number, cmd: string, args: readonly string[]): string[];
  /** what argv() puts before the command: a wrapper that runs anything on host i (in its namespace, on its cores) */
  prefix(host: number): string[];
  /** spawns `cmd args` inside host i, pinned; env gets TROUPE_THREADS = its core count unless set */
  spawn(host: number, cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** re-shapes every data link (null: remove shaping) */
  shape(rate: string | null): void;
  /** takes host i's data link down (a cable pulled: no FIN, no RST) or up again */
  setLink(host: number, up: boolean): void;
  /** removes the namespaces, bridges and the subnet claim; idempotent */
  destroy(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

const DATA_IF = "data0";
const CONTROL_IF = "ctl0";

function defaultCpus(n: number): number[][] {
  const cores = availableParallelism();
  return Array.from({ length: n }, (_, i) => [i % cores]);
}

class NamespaceRig implements Rig {
  readonly hosts: RigHost[];
  rate: string | null = null;
  private destroyed = false;

  constructor(
    private readonly names: RigNames,
    n: number,
    cpus: readonly (readonly number[])[],
  ) {
    this.hosts = Array.from({ length: n }, (_, i) => ({
      index: i,
      name: `h${i}`,
      namespace: names.namespace(i),
      controlAddress: names.controlAddress(i),
      dataAddress: names.dataAddress(i),
      dataInterface: DATA_IF,
      cpus: [...cpus[i]!],
    }));
  }

  get id(): string {
    return this.names.id;
  }
  get natsAddress(): string {
    return this.names.natsAddress;
  }

  build(mtu: number): void {
    const { names, hosts } = this;
    const n = hosts.length;
    for (const h of hosts) {
      run("ip", ["netns", "add", h.namespace]);
      run("ip", ["-n", h.namespace, "link", "set", "lo", "up"]);
    }
    // control network: a bridge in the root namespace, one unshaped veth per host
    run("ip", ["link", "add", names.controlBridge, "type", "bridge"]);
    run("ip", ["addr", "add", `${names.natsAddress}/24`, "dev", names.controlBridge]);
    run("ip", ["link", "set", names.controlBridge, "up"]);
    for (const h of hosts) {
      const peer = names.controlPeer(h.index);
      run("ip", ["link", "add", peer, "type", "veth", "peer", "name", CONTROL_IF, "netns", h.namespace]);
      run("ip", ["link", "set", peer, "master", names.controlBridge]);
      run("ip", ["link", "set", peer, "up"]);
      run("ip", ["-n", h.namespace, "addr", "add", `${h.controlAddress}/24`, "dev", CONTROL_IF]);
      run("ip", ["-n", h.namespace, "link", "set", CONTROL_IF, "up"]);
    }
    // data network: a veth pair between two hosts, or a bridge for more
    if (n === 2) {
      run("ip", ["link", "add", DATA_IF, "netns", hosts[0]!.namespace, "type", "veth", "peer", "name", DATA_IF, "netns", hosts[1]!.namespace]);
    } else {
      run("ip", ["link", "add", names.dataBridge, "type", "bridge"]);
      run("ip", ["link", "set", names.dataBridge, "up"]);
      for (const h of hosts) {
        const peer = names.dataPeer(h.index);
        run("ip", ["link", "add", peer, "mtu", String(mtu), "type", "veth", "peer", "name", DATA_IF, "netns", h.namespace]);
        run("ip", ["link", "set", peer, "master", names.dataBridge]);
        run("ip", ["link", "set", peer, "up"]);
      }
    }
    for (const h of hosts) {
      run("ip", ["-n", h.namespace, "link", "set", DATA_IF, "mtu", String(mtu)]);
      run("ip", ["-n", h.namespace, "addr", "add", `${h.dataAddress}/24`, "dev", DATA_IF]);
      run("ip", ["-n", h.namespace, "link", "set", DATA_IF, "up"]);
    }
  }

  prefix(host: number): string[] {
    const h = this.host(host);
    return [systemBinary("ip"), "netns", "exec", h.namespace, systemBinary("taskset"), "-c", h.cpus.join(",")];
  }

  argv(host: number, cmd: string, args: readonly string[]): string[] {
    return [...this.prefix(host), cmd, ...args];
  }

  spawn(host: number, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [bin, ...rest] = this.argv(host, cmd, args);
    const env = { ...(opts.env ?? process.env) };
    env.TROUPE_THREADS ??= String(this.host(host).cpus.length);
    return spawn(bin!, rest, { ...opts, env });
  }

  shape(rate: string | null): void {
    if (rate !== null) checkRate(rate);
    const bridged = this.hosts.length > 2;
    for (const h of this.hosts) {
      const targets: string[][] = [["-n", h.namespace]];
      if (bridged) targets.push([]);
      for (const ns of targets) {
        const dev = ns.length ? DATA_IF : this.names.dataPeer(h.index);
        run("tc", [...ns, "qdisc", "del", "dev", dev, "root"], { allowFail: true });
        if (rate !== null) run("tc", [...ns, "qdisc", "add", "dev", dev, "root", ...tbfArgs(rate)]);
      }
    }
    this.rate = rate;
  }

  setLink(host: number, up: boolean): void {
    run("ip", ["-n", this.host(host).namespace, "link", "set", DATA_IF, up ? "up" : "down"]);
  }

  private host(i: number): RigHost {
    const h = this.hosts[i];
    if (!h) throw new RigError(`rig ${this.id} has hosts 0-${this.hosts.length - 1}, not ${i}`);
    return h;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.hosts) run("ip", ["netns", "delete", h.namespace], { allowFail: true });
    for (const l of [this.names.controlBridge, this.names.dataBridge]) run("ip", ["link", "delete", l], { allowFail: true });
    releaseNet(this.names.net);
    untrackServer(this);
  }

  // the launcher's exit/signal cleanup calls these
  killSync(): void {}
  cleanupSync(): void {
    this.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.destroy();
  }
}

/** Builds a rig (needs root); on any failure everything built so far is removed. */
export function createRig(opts: RigOptions): Rig {
  requireRoot("the multi-host rig");
  const n = opts.hosts;
  if (!Number.isInteger(n) || n < 2 || n > 32) throw new RigError(`a rig has 2-32 hosts, got ${n}`);
  const cpus = opts.cpus ?? defaultCpus(n);
  if (cpus.length !== n || cpus.some((c) => c.length === 0 || c.some((x) => !Number.isInteger(x) || x < 0))) {
    throw new RigError(`cpus must list a non-empty set of core numbers for each of the ${n} hosts, got ${JSON.stringify(cpus)}`);
  }
  const mtu = opts.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new RigError(`mtu must be an integer in [576, 65535], got ${mtu}`);
  const rig = new NamespaceRig(allocateNames(), n, cpus);
  trackServer(rig);
  try {
    rig.build(mtu);
    rig.shape(opts.rate ?? null);
  } catch (err) {
    rig.destroy();
    throw err;
  }
  return rig;
}
