// `troupe chaos fuzz`: a live, supervised actor receives valid messages mixed with truncated,
// bit-flipped, wrong-version, wrong-shape, NaN-bearing and oversize ones. It must handle
// exactly the valid ones, refuse and count every other one by its decode error code, and
// never crash. The fuzzer classifies each message it sends with the same decoder, so the
// expected count per error code is known in advance and compared with what the actor counted.
import { randomBytes } from "node:crypto";
import { type Logger, componentLogger, deleteRunStreams, openNats } from "../../hosts/mod.js";
import {
  type DecodeErrorCode,
  Stats,
  actorAddress,
  createCodec,
  createRegistry,
  createStamper,
  isDecodeError,
  parseBody,
  wireTensor,
} from "../../protocol/mod.js";
import { openPeer, startSupervisor } from "../runtime/mod.js";
import { FUZZ_MAX_BYTES, FuzzReport, FuzzSample } from "./target.js";
import "../roles.js";

export const FuzzCategory = ["valid", "truncated", "bitflip", "wrong_version", "wrong_shape", "nan", "oversize"] as const;
export type FuzzCategory = (typeof FuzzCategory)[number];

/** what each deliberately broken category must be refused as */
const EXPECTED: Partial<Record<FuzzCategory, DecodeErrorCode>> = {
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
  log?: Logger;
}

export interface FuzzReportJson {
  sent: number;
  valid: number;
  rejected: number;
  crashes: number;
  valid_handled: number;
  checksum_ok: boolean;
  rejected_by_code: Record<string, number>;
  expected_rejected_by_code: Record<string, number>;
  by_category: Record<FuzzCategory, { sent: number; valid: number }>;
  /** deliberately broken messages the local decoder did not refuse as their category demands (must be 0) */
  misclassified: number;
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

export async function runFuzz(o: FuzzOptions = {}): Promise<FuzzReportJson> {
  const total = o.messages ?? 20_000;
  const rand = mulberry32(o.seed ?? 1);
  const log = o.log ?? componentLogger("fuzz");
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
    const judge = createRegistry([FuzzSample]);
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
    const classify = (bytes: Uint8Array): { code: DecodeErrorCode | null; n: number } => {
      try {
        const env = codec.decode(bytes);
        parseBody(env, judge);
        return { code: null, n: (env.body as { n: number }).n };
      } catch (err) {
        if (!isDecodeError(err)) throw err;
        return { code: err.code, n: 0 };
      }
    };

    const byCategory = Object.fromEntries(FuzzCategory.map((c) => [c, { sent: 0, valid: 0 }])) as FuzzReportJson["by_category"];
    const expectedByCode: Record<string, number> = {};
    let valid = 0;
    let sumN = 0;
    let misclassified = 0;
    for (let i = 0; i < total; i++) {
      const cat: FuzzCategory = rand() < 0.4 ? "valid" : FuzzCategory[1 + int(FuzzCategory.length - 1)]!;
      const bytes = make(i, cat);
      const verdict = classify(bytes);
      byCategory[cat].sent++;
      if (verdict.code === null) {
        valid++;
        sumN += verdict.n;
        byCategory[cat].valid++;
        if (cat !== "valid" && cat !== "bitflip") misclassified++;
      } else {
        expectedByCode[verdict.code] = (expectedByCode[verdict.code] ?? 0) + 1;
        if (cat === "valid" || (EXPECTED[cat] && EXPECTED[cat] !== verdict.code)) misclassified++;
      }
      nc.publish(to, bytes);
      // pace: a call queues behind everything published before it, so when it returns the
      // actor has dealt with all of them (and is alive)
      if (i % 1000 === 999) await peer.call(to, FuzzReport, {}, { timeoutMs: 60_000 });
    }
    const report = await peer.call(to, FuzzReport, {}, { timeoutMs: 60_000 });
    const stats = await peer.call(to, Stats, {});
    const crashes = exits + (sup.pidOf("fuzz-target", "0") === pid ? 0 : 1);
    const rejectedByCode = Object.fromEntries(Object.entries(stats.rejectedByCode).filter(([, v]) => v > 0));
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
      by_category: byCategory,
      misclassified,
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await sup.stop();
    // on an external server, leave nothing of this run behind (an embedded one is removed whole)
    if (!session.server) await deleteRunStreams(session.nc, run).catch(() => undefined);
  }
}
