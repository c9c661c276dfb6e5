// Rows in, rows out: the scheduler's unit is one sequence (a row). A batch of rows becomes one
// Forward request (tokens i32 [B, T] left-aligned with T the longest row, and the lengths);
// each reply chunk is cut back into the rows it holds, every output trimmed to the row's own
// length. Chunks are checked against the request: a worker that sends the wrong shapes or rows
// is an error, never silently misread.
// Legend: B rows, T longest row, n rows of a chunk, len a row's length, V vocab, C channels,
// L hidden layers.
import { fromProtoTensor, typedView } from "../../../protocol/mod.js";
import { PoolCallError } from "../../errors.js";
import type { Bucket, Execution, ForwardChunk, ForwardRequest, LogitsMode, Outputs } from "../proto.js";

/** What a row asks for. */
export interface RowOutputs {
  /** "all": logits at every position of the row; "last": at its last position only. */
  readonly logits: "none" | "all" | "last";
  /** Residual-stream layers to return (0 = embeddings, i = after block i-1). */
  readonly hiddenLayers?: readonly number[];
  /** Logit-lens argmax at each hidden layer, then of the final logits. */
  readonly lens?: boolean;
}

export interface RowResult {
  /** f32 [len, V] ("all") or [V] ("last") */
  readonly logits?: Float32Array;
  /** f32 [L, len, C] */
  readonly hidden?: Float32Array;
  /** i32 [L + 1, len] */
  readonly lens?: Int32Array;
  /** The compiled shape the row ran in and where. */
  readonly execution: Execution;
}

export const outputsKey = (o: RowOutputs): string => JSON.stringify([o.logits, o.hiddenLayers ?? [], o.lens === true]);

const MODES: Record<RowOutputs["logits"], LogitsMode> = { none: "LOGITS_NONE", all: "LOGITS_ALL", last: "LOGITS_LAST" };

export function protoOutputs(o: RowOutputs): Outputs {
  return { logits: MODES[o.logits], hiddenLayers: [...(o.hiddenLayers ?? [])], lens: o.lens === true, dtype: "f32" };
}

/** One Forward request for rows sharing their outputs. */
export function batchRequest(rows: readonly Int32Array[], outputs: RowOutputs, modelId: string, requestId: string): ForwardRequest {
  const T = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const tokens = new Int32Array(rows.length * T);
  rows.forEach((r, b) => tokens.set(r, b * T));
  return {
    modelId,
    tokens: { dtype: "i32", shape: [rows.length, T], data: new Uint8Array(tokens.buffer) },
    lengths: rows.map((r) => r.length),
    outputs: protoOutputs(outputs),
    requestId,
  };
}

/** The rows of one chunk, checked against the request; results by request row index. */
export function splitChunk(c: ForwardChunk, lengths: readonly number[], T: number, outputs: RowOutputs, worker: string): Map<number, RowResult> {
  const bad = (why: string) => new PoolCallError({ status: "INTERNAL", reason: "BAD_REPLY", worker, message: `reply chunk rows ${c.rowStart}+${c.rows}: ${why}` });
  const n = c.rows;
  if (!Number.isInteger(c.rowStart) || n < 1 || c.rowStart + n > lengths.length) throw bad(`outside the request's ${lengths.length} rows`);
  if (!c.execution || !c.execution.bucket) throw bad("no execution report");
  const L = outputs.hiddenLayers?.length ?? 0;
  const read = (t: ForwardChunk["logits"], what: string, dtype: "f32" | "i32", shape: number[]) => {
    let w;
    try {
      w = fromProtoTensor(t, what);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (w.dtype !== dtype || w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw bad(`${what} is ${w.dtype}[${w.shape.join(",")}], expected ${dtype}[${shape.join(",")}]`);
    }
    return w;
  };
  let logits: Float32Array | null = null;
  let V = 0;
  if (outputs.logits !== "none") {
    const shape = c.logits?.shape.map(Number) ?? [];
    V = shape[shape.length - 1] ?? 0;
    logits = typedView(read(c.logits, "logits", "f32", outputs.logits === "all" ? [n, T, V] : [n, V]) as never) as Float32Array;
  }
  let hidden: Float32Array | null = null;
  let C = 0;
  if (L > 0) {
    C = Number(c.hidden?.shape[3] ?? 0);
    hidden = typedView(read(c.hidden, "hidden", "f32", [L, n, T, C]) as never) as Float32Array;
  }
  const lens = outputs.lens ? (typedView(read(c.lens, "lens", "i32", [L + 1, n, T]) as never) as Int32Array) : null;
  const out = new Map<number, RowResult>();
  for (let i = 0; i < n; i++) {
    const row = c.rowStart + i;
    const len = lengths[row]!;
    const r: { -readonly [K in keyof RowResult]: RowResult[K] } = { execution: c.execution };
    if (logits) r.logits = outputs.logits === "all" ? logits.slice(i * T * V, (i * T + len) * V) : logits.slice(i * V, (i + 1) * V);
    if (hidden) {
      const h = new Float32Array(L * len * C);
      for (let l = 0; l < L; l++) h.set(hidden.subarray(((l * n + i) * T) * C, ((l * n + i) * T + len) * C), l * len * C);
      r.hidden = h;
    }
    if (lens) {
      const o = new Int32Array((L + 1) * len);
      for (let l = 0; l <= L; l++) o.set(lens.subarray((l * n + i) * T, (l * n + i) * T + len), l * len);
      r.lens = o;
    }
    out.set(row, r);
  }
  return out;
}

export const bucketOf = (e: Execution): Bucket => e.bucket ?? { batch: 0, seqLen: 0 };
