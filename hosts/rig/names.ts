// Names and address ranges of rigs, and the sweep of what a killed run left behind.
//
// Every namespace and root-side interface of a rig starts with `trp-<pid>-<k>` (the owner's
// pid in base 36 and a per-process counter), so a later run can tell a live rig from the
// leftovers of a process that died by SIGKILL and remove only the latter. Interface names
// stay within Linux's 15 characters: `trp-<pid≤5>-<k≤2>` + `c`/`d` + host index.
//
// Address plan (RFC 1918, used only inside the rig's own namespaces and bridges):
//   10.231.<net>.1          the control bridge in the root namespace (nats-server listens here)
//   10.231.<net>.<10+i>     host i's control interface `ctl0`
//   10.232.<net>.<1+i>      host i's data interface `data0` (the shaped link; inside namespaces)
// <net> (1-250) is claimed with an exclusive file in /tmp/troupe-rig, so rigs of parallel
// test files never share a subnet on the root namespace's bridge.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RigError } from "../errors.js";
import { listLinks, listNamespaces, pidAlive, run } from "./command.js";

export const RIG_PREFIX = "trp-";
const CLAIMS = "/tmp/troupe-rig";
let counter = 0;

export interface RigNames {
  readonly id: string;
  readonly net: number;
  namespace(i: number): string;
  /** root-side end of host i's control veth */
  controlPeer(i: number): string;
  /** root-side end of host i's data veth (bridged topologies) */
  dataPeer(i: number): string;
  readonly controlBridge: string;
  readonly dataBridge: string;
  controlAddress(i: number): string;
  readonly natsAddress: string;
  dataAddress(i: number): string;
}

function ownerOf(name: string): number | null {
  const m = /^trp-([0-9a-z]{1,5})-/.exec(name);
  return m ? parseInt(m[1]!, 36) : null;
}

/** Claims a free /24 for a new rig and returns its names. */
export function allocateNames(): RigNames {
  const id = `${process.pid.toString(36)}-${(counter++).toString(36)}`;
  mkdirSync(CLAIMS, { recursive: true });
  let net = 0;
  const start = (process.pid + counter * 7) % 250;
  for (let k = 0; k < 250 && net === 0; k++) {
    const candidate = ((start + k) % 250) + 1;
    try {
      writeFileSync(join(CLAIMS, `net-${candidate}`), JSON.stringify({ pid: process.pid, id }), { flag: "wx" });
      net = candidate;
    } catch {
      // taken: try the next one
    }
  }
  if (net === 0) throw new RigError(`no free rig subnet: 250 claims in ${CLAIMS}; run sweepRigs() or remove stale files there`);
  const p = `${RIG_PREFIX}${id}`;
  return {
    id,
    net,
    namespace: (i) => `${p}-h${i}`,
    controlPeer: (i) => `${p}c${i}`,
    dataPeer: (i) => `${p}d${i}`,
    controlBridge: `${p}b`,
    dataBridge: `${p}s`,
    controlAddress: (i) => `10.231.${net}.${10 + i}`,
    natsAddress: `10.231.${net}.1`,
    dataAddress: (i) => `10.232.${net}.${1 + i}`,
  };
}

/** Gives the subnet back (after the rig's interfaces are gone). */
export function releaseNet(net: number): void {
  rmSync(join(CLAIMS, `net-${net}`), { force: true });
}

export interface SweepReport {
  readonly namespaces: string[];
  readonly links: string[];
  readonly claims: string[];
}

/**
 * Removes rig namespaces, root-side interfaces and subnet claims whose owner process is gone
 * (a run killed with SIGKILL). Live rigs, including this process's, are left alone.
 */
export function sweepRigs(): SweepReport {
  const stale = (name: string) => {
    const pid = ownerOf(name);
    return pid !== null && !pidAlive(pid);
  };
  const namespaces = listNamespaces().filter((n) => n.startsWith(RIG_PREFIX) && stale(n));
  for (const ns of namespaces) run("ip", ["netns", "delete", ns], { allowFail: true });
  // deleting a namespace deletes the veth ends inside it, and with them their root-side peers;
  // bridges and anything else left in the root namespace go here
  const links = listLinks().filter((n) => n.startsWith(RIG_PREFIX) && stale(n));
  for (const l of links) run("ip", ["link", "delete", l], { allowFail: true });
  const claims: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(CLAIMS);
  } catch {
    files = [];
  }
  for (const f of files) {
    try {
      const { pid } = JSON.parse(readFileSync(join(CLAIMS, f), "utf8")) as { pid: number };
      if (!pidAlive(pid)) {
        rmSync(join(CLAIMS, f), { force: true });
        claims.push(f);
      }
    } catch {
      // a claim being written right now, or garbage: leave it
    }
  }
  return { namespaces, links, claims };
}
