// troupe host --nats URL --name NAME [--tags a,b] [--cores N] [--link-address ADDR[%IFACE]]...
//   Runs this machine's host agent until SIGTERM/SIGINT: registers it, heartbeats, runs the
//   actors directors place on it; then leaves cleanly (exit 0). Prints one JSON line when it
//   has registered ({"host":…,"registered":true,…}) and one when it has left.
// troupe hosts [--nats URL] [--json]
//   The registry: every listed host with its capabilities, load and runs, and how long ago its
//   last heartbeat was written (by its own clock: a listing, not a liveness verdict).
import type { Command } from "commander";
import { intArg, urlArg } from "../args.js";
import { UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function names(flag: string) {
  return (value: string, prev: string[] = []) => {
    const out = [...prev];
    for (const v of value.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!NAME.test(v)) throw new UsageError(`${flag}: ${JSON.stringify(v)} must be 1-64 of A-Z a-z 0-9 _ - (it becomes part of NATS subjects)`);
      out.push(v);
    }
    return out;
  };
}

/** ADDR or ADDR%IFACE (the interface links of this host use, for GLOO_SOCKET_IFNAME and reports). */
function linkAddress(value: string, prev: { address: string; interface?: string }[] = []) {
  const [address, iface] = value.split("%");
  if (!address || /\s/.test(value) || value.split("%").length > 2) throw new UsageError(`--link-address must look like 10.0.0.2 or 10.0.0.2%eth1, got ${JSON.stringify(value)}`);
  return [...prev, { address, ...(iface ? { interface: iface } : {}) }];
}

interface HostFlags {
  nats: string;
  name: string;
  tags?: string[];
  cores?: number;
  backends?: string[];
  linkAddress?: { address: string; interface?: string }[];
  beatMs: number;
  orphanS: number;
}

export function register(program: Command): void {
  program
    .command("host")
    .description("run this machine's host agent: register in the cluster's host registry, heartbeat, run the actors placed here; SIGTERM leaves cleanly")
    .requiredOption("--nats <url>", "the cluster's NATS server(s)", urlArg("--nats"))
    .requiredOption("--name <name>", "this host's name (scenarios name it in hosts: and cast.<role>.on)", (v: string) => names("--name")(v)[0]!)
    .option("--tags <list>", "tags placement can pin roles to (cast.<role>.tags), comma-separated", names("--tags"))
    .option("--cores <n>", "cores this host offers (default: all of this machine's)", intArg("--cores", 1, 4096))
    .option("--backends <list>", "compute backends offered (default: cpu)", names("--backends"))
    .option("--link-address <addr>", "address (and %interface) links to this host's actors listen on; repeat for several (default: the first non-loopback IPv4 address)", linkAddress)
    .option("--beat-ms <n>", "heartbeat period", intArg("--beat-ms", 50, 60_000), 1000)
    .option("--orphan-s <n>", "stop a run's actors when its director has not renewed its lease this long", intArg("--orphan-s", 10, 86_400), 120)
    .action(async (f: HostFlags) => {
      const { startHostAgent } = await import("../../actors/agent/mod.js");
      const { localLinkAddresses } = await import("../../hosts/mod.js");
      const links = f.linkAddress ?? localLinkAddresses();
      const agent = await startHostAgent({
        natsUrl: f.nats, name: f.name, tags: f.tags ?? [], ...(f.cores ? { cores: f.cores } : {}), ...(f.backends ? { backends: f.backends } : {}),
        links, beatMs: f.beatMs, orphanMs: f.orphanS * 1000,
      });
      const r = agent.record();
      printJson({ host: agent.name, registered: true, instance: agent.instance, pid: process.pid, cores: r.cores, kernels: r.kernels.mode, tags: r.tags, links: r.links });
      for (const s of ["SIGTERM", "SIGINT"] as const) process.once(s, () => void agent.leave(s));
      await agent.done;
      printJson({ host: agent.name, left: true });
    });

  program
    .command("hosts")
    .description("list the cluster's host registry: capabilities, load, runs, last heartbeat")
    .requiredOption("--nats <url>", "the cluster's NATS server(s)", urlArg("--nats"))
    .option("--json", "print one JSON document")
    .action(async (f: { nats: string; json?: boolean }) => {
      const { openNats, openHostRegistry } = await import("../../hosts/mod.js");
      await using session = await openNats({ url: f.nats, name: "troupe-hosts" });
      const hosts = await (await openHostRegistry(session.nc)).list();
      const now = Date.now();
      if (f.json) return printJson({ hosts: hosts.map((h) => ({ ...h, beat_age_s: Math.round((now - h.beatAt) / 100) / 10 })) });
      if (hosts.length === 0) progress("no host is registered (start `troupe host --nats URL --name NAME` on each machine)");
      for (const h of hosts) {
        const runs = h.runs.map((r) => `${r.run}: ${r.actors.map((a) => `${a.role}/${a.id} ${a.state}`).join(", ")}${r.escalated ? " (gave up)" : ""}`).join("; ");
        printLine(`${h.name.padEnd(16)} ${h.state.padEnd(8)} ${String(h.cores).padStart(3)} cores ${String(h.load.cores).padStart(4)} asked  ${h.kernels.mode.padEnd(9)} ` +
          `tags [${h.tags.join(",")}] links [${h.links.map((l) => l.address).join(",")}] beat ${((now - h.beatAt) / 1000).toFixed(1)} s ago (its clock)${runs ? `  ${runs}` : ""}`);
      }
    });
}
