// `troupe chaos fuzz`: a live, supervised actor receives valid messages mixed with truncated,
// wrong-version, wrong-shape, NaN-bearing and oversize ones, then a run of bit-flipped ones. It
// must handle exactly the valid ones, refuse and count every other one by its decode error
// code, and never crash. What each broken category must be refused as comes from a fixed table
// (EXPECTED below), not from the decoder under test: the expected count per code is the number
// of messages sent in each category. A flipped bit may leave a message valid or break it in any
// way, so no table can say what it becomes; bit flips are sent last, on their own, and only
// accounted for (each handled or refused, nothing crashes).
import { randomBytes } from "node:crypto";
import { type Logger, componentLogger, deleteRunStreams, openNats } from "../../hosts/mod.js";
import { Stats, actorAddress, createCodec, createStamper, wireTensor } from "../../protocol/mod.js";
import { openPeer, startSupervisor } from "../runtime/mod.js";
import { FUZZ_MAX_BYTES, FuzzReport, FuzzSample } from "./target.js";
import "../roles.js";

export const FuzzCategory = ["valid", "truncated", "bitflip", "wrong_version", "wrong_shape", "nan", "oversize"] as const;
export type FuzzCategory = (typeof FuzzCategory)[number];
type Broken = Exclude<FuzzCategory, "valid" | "bitflip">;

/** What each deliberately broken category must be refused as: the protocol's documented codes. */
export const EXPECTED: Readonly<Record<Broken, string>> = {
  truncated: "MALFORMED",
  wrong_version: "VERSION",
  wrong_shape: "SHAPE",
  nan: "NAN",
  oversize: "OVERSIZE",
};

export interface FuzzOptions {
  natsUrl?: string;
  messages?: number;
  seed?: number;
  /** Replaces entries of EXPECTED (a test shows a wrong table is caught). */
  expect?: Partial<Record<Broken, string>>;
  log?: Logger;
}

export interface FuzzReportJson {
  sent: number;
  valid: number;
  /** refused by the actor, bit flips excluded */
  rejected: number;
  crashes: number;
  valid_handled: number;
  checksum_ok: boolean;
  /** what the actor refused, by code (bit flips excluded) */
  rejected_by_code: Record<string, number>;
  /** from the table: messages sent per broken category, under the category's code */
  expected_rejected_by_code: Record<string, number>;
  /** codes whose count differs from the table's (must be empty) */
  mismatched_codes: string[];
  by_category: Record<FuzzCategory, { sent: number }>;
  /** bit-flipped messages, sent after the rest: handled + rejected must equal sent */
  bitflip: { sent: number; handled: number; rejected: number; rejected_by_code: Record<string, number> };
  elapsed_ms: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const nonZero = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([, v]) => v > 0));
function minus(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (a[k] ?? 0) - (b[k] ?? 0);
  return nonZero(out);
}

export async function runFuzz(o: FuzzOptions = {}): Promise<FuzzReportJson> {
  const total = o.messages ?? 20_000;
  const rand = mulberry32(o.seed ?? 1);
  const log = o.log ?? componentLogger("fuzz");
  const table: Record<Broken, string> = { ...EXPECTED, ...o.expect };
  const t0 = Date.now();
  await using session = await openNats({ url: o.natsUrl, name: "troupe-fuzz" });
  const { nc } = session;
  const run = `fuzz-${randomBytes(4).toString("hex")}`;
  let exits = 0;
  const sup = startSupervisor({
    run,
    natsUrl: session.url,
    nc,
    children: [{ role: "fuzz-target", id: "0" }],
    onEvent: (e) => {
      if (e.event === "exited") exits++;
    },
  });
  try {
    await sup.ready();
    const pid = sup.pidOf("fuzz-target", "0");
    const to = actorAddress(run, "fuzz-target", "0");
    const peer = openPeer({ nc, run, name: "fuzzer" });
    const codec = createCodec({ maxBytes: FUZZ_MAX_BYTES });
    const stamper = createStamper(run, "troupe." + run + "._client.fuzzer");
    const int = (n: number) => Math.floor(rand() * n);

    const sample = (i: number, len: number, nanAt = -1) => {
      const x = new Float32Array(len);
      for (let k = 0; k < len; k++) x[k] = rand() * 2 - 1;
      if (nanAt >= 0) x[nanAt] = NaN;
      return stamper.stamp(FuzzSample.kind, { n: i, x: wireTensor("f32", [len], x), tag: `s${i}` });
    };
    const make = (i: number, cat: FuzzCategory): Uint8Array => {
      switch (cat) {
        case "valid":
          return codec.encode(sample(i, 1 + int(64)));
        case "truncated": {
          const b = codec.encode(sample(i, 1 + int(64)));
          return b.slice(0, 1 + int(b.length - 1));
        }
        case "bitflip": {
          const b = Uint8Array.from(codec.encode(sample(i, 1 + int(64))));
          for (let f = 1 + int(3); f > 0; f--) b[int(b.length)]! ^= 1 << int(8);
          return b;
        }
        case "wrong_version":
          return codec.encode({ ...sample(i, 4), v: [0, 2, 99][int(3)]! });
        case "wrong_shape": {
          const len = 2 + int(60);
          const b = Uint8Array.from(codec.encode(sample(i, len)));
          const h = b.findIndex((v, k) => v === 0x54 && b[k + 1] === 1 && b[k + 2] === 0 && b[k + 3] === 1);
          if (h < 0) throw new Error("fuzz generator: the tensor header was not found in an encoded sample");
          const dim = len + 1 + int(5);
          b[h + 5] = dim & 0xff; // dims[0] is little-endian at header + 4 (h points at the ext type byte)
          b[h + 6] = dim >>> 8;
          return b;
        }
        case "nan": {
          const len = 1 + int(64);
          return codec.encode(sample(i, len, int(len)));
        }
        case "oversize":
          return createCodec({ maxBytes: Infinity }).encode(sample(i, FUZZ_MAX_BYTES / 4 + 1 + int(8192)));
      }
    };

    // the same draw of categories as always; bit flips are held back and sent last
    const byCategory = Object.fromEntries(FuzzCategory.map((c) => [c, { sent: 0 }])) as FuzzReportJson["by_category"];
    const expectedByCode: Record<string, number> = {};
    const flips: number[] = [];
    let valid = 0;
    let sumN = 0;
    let sent = 0;
    const send = async (bytes: Uint8Array) => {
      nc.publish(to, bytes);
      // pace: a call queues behind everything published before it, so when it returns the
      // actor has dealt with all of them (and is alive)
      if (++sent % 1000 === 0) await peer.call(to, FuzzReport, {}, { timeoutMs: 60_000 });
    };
    for (let i = 0; i < total; i++) {
      const cat: FuzzCategory = rand() < 0.4 ? "valid" : FuzzCategory[1 + int(FuzzCategory.length - 1)]!;
      byCategory[cat].sent++;
      if (cat === "bitflip") {
        flips.push(i);
        continue;
      }
      if (cat === "valid") {
        valid++;
        sumN += i;
      } else expectedByCode[table[cat]] = (expectedByCode[table[cat]] ?? 0) + 1;
      await send(make(i, cat));
    }
    const report = await peer.call(to, FuzzReport, {}, { timeoutMs: 60_000 });
    const stats = await peer.call(to, Stats, {});
    for (const i of flips) await send(make(i, "bitflip"));
    const after = await peer.call(to, FuzzReport, {}, { timeoutMs: 60_000 });
    const statsAfter = await peer.call(to, Stats, {});
    const crashes = exits + (sup.pidOf("fuzz-target", "0") === pid ? 0 : 1);
    const rejectedByCode = nonZero(stats.rejectedByCode);
    const mismatched = [...new Set([...Object.keys(rejectedByCode), ...Object.keys(expectedByCode)])]
      .filter((c) => (rejectedByCode[c] ?? 0) !== (expectedByCode[c] ?? 0))
      .sort();
    log.info({ sent: total, valid, rejected: stats.rejected }, "fuzz done");
    return {
      sent: total,
      valid,
      rejected: stats.rejected,
      crashes,
      valid_handled: report.handled,
      checksum_ok: report.sumN === sumN,
      rejected_by_code: rejectedByCode,
      expected_rejected_by_code: expectedByCode,
      mismatched_codes: mismatched,
      by_category: byCategory,
      bitflip: {
        sent: flips.length,
        handled: after.handled - report.handled,
        rejected: statsAfter.rejected - stats.rejected,
        rejected_by_code: minus(statsAfter.rejectedByCode, stats.rejectedByCode),
      },
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await sup.stop();
    // on an external server, leave nothing of this run behind (an embedded one is removed whole)
    if (!session.server) await deleteRunStreams(session.nc, run).catch(() => undefined);
  }
}
