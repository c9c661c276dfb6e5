// What `bench pool` and `chaos pool-failover` put through a pool: a mixed-length request
// stream and a closed-loop driver.
//   stream: the speeches of tinyshakespeare (../shared/data/tinyshakespeare/input.txt, blank-
//           line separated), as byte tokens, cut at the longest bucket (128): real text, whose
//           lengths are what they are (3 % fit 16 tokens, 14 % 32, 44 % 64, all 128), in a
//           seeded random order. Without the file, a seeded draw of lengths with the same
//           bucket shares stands in (and the report says so).
//   driver: `clients` callers, each sending its next row as soon as its last one is answered
//           (so latency is a request's own wait, not a queue that grows with the run), until
//           `total` rows are answered or `until()` says stop.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRng } from "../../kernels/mod.js";
import type { Pool, RowOutputs } from "../../hosts/pools/mod.js";
import { sharedPath } from "../shared.js";

export interface RequestStream {
  /** Token rows, in the order they are sent (cycled when a run needs more). */
  readonly rows: readonly Int32Array[];
  readonly source: string;
}

export function requestStream(maxLen: number, seed: number): RequestStream {
  const file = join(sharedPath("data"), "tinyshakespeare", "input.txt");
  const rng = createRng(seed);
  let rows: Int32Array[];
  let source: string;
  if (existsSync(file)) {
    const bytes = new Uint8Array(readFileSync(file));
    rows = [];
    let start = 0;
    for (let i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] === 10 && bytes[i + 1] === 10) {
        if (i > start) rows.push(Int32Array.from(bytes.subarray(start, Math.min(i, start + maxLen))));
        start = i + 2;
      }
    }
    source = `tinyshakespeare speeches (${rows.length}), cut at ${maxLen} tokens`;
  } else {
    // the speeches' shares of lengths per power-of-two band, drawn uniformly within each band
    const bands: [number, number, number][] = [[1, 16, 0.03], [17, 32, 0.11], [33, 64, 0.3], [65, maxLen, 0.56]];
    rows = Array.from({ length: 7000 }, () => {
      let u = rng.next();
      const band = bands.find((b) => (u -= b[2]) < 0) ?? bands[bands.length - 1]!;
      const len = band[0] + Math.floor(rng.next() * (Math.min(band[1], maxLen) - band[0] + 1));
      return Int32Array.from({ length: len }, () => 32 + Math.floor(rng.next() * 90));
    });
    source = `synthetic lengths (tinyshakespeare not found at ${file})`;
  }
  // seeded shuffle
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return { rows, source };
}

export interface LoadResult {
  readonly answered: number;
  readonly failed: number;
  readonly wallMs: number;
  readonly realTokens: number;
  /** Errors by message, the first few. */
  readonly errors: readonly string[];
}

/** Closed loop: `clients` concurrent callers over the stream from `offset`. */
export async function driveLoad(o: {
  pool: Pool;
  stream: RequestStream;
  clients: number;
  total?: number;
  until?: () => boolean;
  offset?: number;
  outputs?: RowOutputs;
  onAnswer?: (latencyMs: number) => void;
}): Promise<LoadResult> {
  const outputs = o.outputs ?? { logits: "last" };
  let next = o.offset ?? 0;
  let answered = 0;
  let failed = 0;
  let realTokens = 0;
  const errors: string[] = [];
  const t0 = performance.now();
  const more = () => (o.total !== undefined ? next - (o.offset ?? 0) < o.total : !o.until!());
  const client = async () => {
    while (more()) {
      const row = o.stream.rows[next++ % o.stream.rows.length]!;
      try {
        const r = await o.pool.forward(row, outputs);
        answered++;
        realTokens += row.length;
        o.onAnswer?.(r.latencyMs);
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  return { answered, failed, wallMs: performance.now() - t0, realTokens, errors };
}
