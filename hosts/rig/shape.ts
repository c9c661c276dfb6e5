// Link shaping with `tc qdisc … tbf` (this kernel has tbf and htb, not netem): a token bucket
// at the link rate. The bucket holds 1 ms of traffic but at least 256 KiB, so the 64 KiB GSO
// super-packets veth hands over pass whole; the queue holds 10 ms of traffic.
import { RigError } from "../errors.js";

const RATE = /^(\d+(?:\.\d+)?)(k|m|g)?bit$/;
const UNIT = { k: 1e3, m: 1e6, g: 1e9 } as const;

/** Bits per second of a tc rate ("10gbit" → 1e10); throws RigError for anything else. */
export function checkRate(rate: string): number {
  const m = RATE.exec(typeof rate === "string" ? rate.trim() : "");
  if (!m) throw new RigError(`link rate must look like 1gbit, 10gbit or 500mbit, got ${JSON.stringify(rate)}`);
  const bits = Number(m[1]) * (m[2] ? UNIT[m[2] as keyof typeof UNIT] : 1);
  if (!(bits >= 1e6 && bits <= 4e11)) throw new RigError(`link rate must be between 1mbit and 400gbit, got ${rate}`);
  return bits;
}

/** Bytes per second of a tc rate. */
export function rateBytesPerSecond(rate: string): number {
  return checkRate(rate) / 8;
}

/** The `tbf …` arguments of a rate. */
export function tbfArgs(rate: string): string[] {
  const bytes = rateBytesPerSecond(rate);
  const burst = Math.max(256 * 1024, Math.round(bytes / 1000));
  return ["tbf", "rate", rate, "burst", String(burst), "latency", "10ms"];
}
