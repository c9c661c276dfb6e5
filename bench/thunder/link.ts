// `troupe bench link`: how fast bytes go between two rig hosts (one core each, shaped link) by
// each transport troupe could use — the measurement behind the links' design (see README):
//   raw TCP, one stream                       the ceiling any framing is judged against
//   troupe link (framed envelopes, 1 MiB attachments), receiving on the dialer (onread: straight
//   into the destination) and on the acceptor ('data' chunks, one copy)
//   several streams, and both directions at once (what a 2-host ring all-reduce does)
// Each case moves `mib` MiB per direction; rounds are interleaved and the median taken.
import { fileURLToPath } from "node:url";
import { type Hosts, expectOk, finished, openHosts } from "../../hosts/mod.js";

const STREAM = fileURLToPath(new URL("./stream.js", import.meta.url));

interface Case {
  readonly name: string;
  readonly impl: "raw" | "link";
  /** who receives: the dialer, the listener, both ends of one connection, or the dialers of two
   * connections, one each way (how the ring lays out its links) */
  readonly receiver: "dialer" | "listener" | "both" | "dialers";
  readonly streams: number;
}

export const LINK_CASES: readonly Case[] = [
  { name: "raw TCP, 1 stream", impl: "raw", receiver: "dialer", streams: 1 },
  { name: "troupe link, dialer receives (zero-copy)", impl: "link", receiver: "dialer", streams: 1 },
  { name: "troupe link, acceptor receives (copy)", impl: "link", receiver: "listener", streams: 1 },
  { name: "raw TCP, 2 streams", impl: "raw", receiver: "dialer", streams: 2 },
  { name: "troupe link, 2 links", impl: "link", receiver: "dialer", streams: 2 },
  { name: "raw TCP, both directions", impl: "raw", receiver: "both", streams: 1 },
  { name: "troupe link, both directions", impl: "link", receiver: "both", streams: 1 },
  { name: "troupe links, both directions, each received by its dialer (the ring's layout)", impl: "link", receiver: "dialers", streams: 1 },
  { name: "troupe links, both directions, 2 links each way, received by their dialers", impl: "link", receiver: "dialers", streams: 2 },
  { name: "raw TCP, both directions, 2 streams each way, received by their dialers", impl: "raw", receiver: "dialers", streams: 2 },
];

async function measure(h: Hosts, c: Case, bytes: number): Promise<number> {
  if (c.receiver === "dialers") {
    // host 1 dials host 0 and host 0 dials host 1, each receiving on the link it dialled
    const one = (listenOn: number, dialFrom: number) => oneWay(h, { ...c, receiver: "dialer" }, bytes, listenOn, dialFrom);
    const rates = await Promise.all([one(1, 0), one(0, 1)]);
    return Math.min(...rates);
  }
  return oneWay(h, c, bytes, 1, 0);
}

async function oneWay(h: Hosts, c: Case, bytes: number, listenOn: number, dialFrom: number): Promise<number> {
  const base = { impl: c.impl, host: h.address(listenOn), bytes, streams: c.streams };
  const listenerRecv = c.receiver !== "dialer";
  const dialerRecv = c.receiver !== "listener";
  const listener = h.spawn(listenOn, process.execPath, [STREAM, JSON.stringify({ ...base, role: "listen", recv: listenerRecv, send: dialerRecv })], { TROUPE_LOG_LEVEL: "warn" });
  const lDone = finished(listener);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    listener.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    listener.once("exit", () => reject(new Error(`the listener exited before listening: ${out}`)));
  });
  const dialer = h.spawn(dialFrom, process.execPath, [STREAM, JSON.stringify({ ...base, role: "dial", port, recv: dialerRecv, send: listenerRecv })], { TROUPE_LOG_LEVEL: "warn" });
  const [d, l] = await Promise.all([finished(dialer), lDone]);
  const rates: number[] = [];
  if (dialerRecv) rates.push(expectOk("the dialer", d).GBps as number);
  if (listenerRecv) rates.push(expectOk("the listener", l).GBps as number);
  return Math.min(...rates);
}

export interface LinkBenchOptions {
  readonly link?: string | null;
  readonly mib?: number;
  readonly rounds?: number;
  readonly mtu?: number;
  readonly loopback?: boolean;
  readonly log?: (line: string) => void;
}

export async function runLinkBench(o: LinkBenchOptions = {}) {
  const rounds = Math.max(1, o.rounds ?? 2);
  const bytes = (o.mib ?? 512) << 20;
  const hosts = await openHosts({ hosts: 2, rate: o.link === undefined ? "10gbit" : o.link, loopback: o.loopback });
  const runs = new Map<string, number[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of LINK_CASES) {
        o.log?.(`[bench] link round ${round + 1}/${rounds}: ${c.name}`);
        runs.set(c.name, [...(runs.get(c.name) ?? []), await measure(hosts, c, bytes)]);
      }
    }
  } finally {
    await hosts.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const rows = LINK_CASES.map((c) => ({ transport: c.name, GBps: Math.round(median(runs.get(c.name)!) * 1000) / 1000, runs: runs.get(c.name)!.map((x) => Math.round(x * 1000) / 1000) }));
  return { rows, link: hosts.rate, kind: hosts.kind, mib: bytes >> 20, rounds, note: "both-directions rows are GB/s each way" };
}
