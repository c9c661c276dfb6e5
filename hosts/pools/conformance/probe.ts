// Raw requests for the conformance suite: tokens built here, replies read back into plain
// arrays with every shape checked, and the worker's status (code, reason, details) kept as it
// came. Nothing of the scheduler is used: the suite checks the wire contract itself.
// Legend: B rows, T request time, V vocab, C channels, L hidden layers.
import { fromProtoTensor, typedView } from "../../../protocol/mod.js";
import type { PoolCallError } from "../../errors.js";
import type { WorkerClient } from "../client.js";
import type { Execution, ForwardChunk, ForwardRequest, LogitsMode } from "../proto.js";

/** A deterministic stream of token ids in 0..V-1. */
export function tokenRows(seed: number, rows: number, T: number, V: number): Int32Array {
  const out = new Int32Array(rows * T);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s % V;
  }
  return out;
}

export interface Ask {
  readonly tokens: Int32Array;
  readonly B: number;
  readonly T: number;
  readonly lengths?: readonly number[];
  readonly logits?: LogitsMode;
  readonly layers?: readonly number[];
  readonly lens?: boolean;
  readonly modelId?: string;
  readonly dtype?: string;
}

export function request(a: Ask): ForwardRequest {
  return {
    modelId: a.modelId ?? "",
    tokens: { dtype: "i32", shape: [a.B, a.T], data: new Uint8Array(a.tokens.buffer, a.tokens.byteOffset, a.tokens.byteLength) },
    lengths: a.lengths ? [...a.lengths] : [],
    outputs: { logits: a.logits ?? "LOGITS_ALL", hiddenLayers: [...(a.layers ?? [])], lens: a.lens ?? false, dtype: a.dtype ?? "" },
    requestId: "conformance",
  };
}

/** A reply put back together: outputs by row, and the executions reported. */
export interface Reply {
  readonly chunks: readonly ForwardChunk[];
  /** f32 [B, T, V] (all) or [B, V] (last) */
  readonly logits: Float32Array | null;
  /** f32 [L, B, T, C] */
  readonly hidden: Float32Array | null;
  /** i32 [L + 1, B, T] */
  readonly lens: Int32Array | null;
  readonly executions: readonly Execution[];
  /** Rows in the order the chunks covered them. */
  readonly rowOrder: readonly number[];
}

export type Outcome = { ok: true; reply: Reply; ms: number } | { ok: false; error: PoolCallError; ms: number };

/** Sends one request and reassembles the reply; a malformed reply is thrown as an Error. */
export async function send(client: WorkerClient, a: Ask, o: { V: number; C: number; timeoutMs?: number }): Promise<Outcome> {
  const t0 = performance.now();
  let chunks: ForwardChunk[];
  try {
    chunks = await client.forward(request(a), { deadline: Date.now() + (o.timeoutMs ?? 120_000) });
  } catch (err) {
    return { ok: false, error: err as PoolCallError, ms: performance.now() - t0 };
  }
  const { B, T } = a;
  const L = a.layers?.length ?? 0;
  const mode = a.logits ?? "LOGITS_ALL";
  const logits = mode === "LOGITS_NONE" ? null : new Float32Array(mode === "LOGITS_ALL" ? B * T * o.V : B * o.V);
  const hidden = L > 0 ? new Float32Array(L * B * T * o.C) : null;
  const lens = a.lens ? new Int32Array((L + 1) * B * T) : null;
  const rowOrder: number[] = [];
  const executions: Execution[] = [];
  const expect = (t: ForwardChunk["logits"], what: string, dtype: string, shape: number[]) => {
    const w = fromProtoTensor(t, what);
    if (w.dtype !== dtype || w.shape.join() !== shape.join()) throw new Error(`${what} is ${w.dtype}[${w.shape.join(",")}], expected ${dtype}[${shape.join(",")}]`);
    return w;
  };
  for (const c of chunks) {
    const n = c.rows;
    if (n < 1 || c.rowStart + n > B) throw new Error(`a chunk covers rows ${c.rowStart}..${c.rowStart + n - 1} of a ${B}-row request`);
    for (let i = 0; i < n; i++) rowOrder.push(c.rowStart + i);
    if (c.execution && !executions.includes(c.execution)) {
      const same = executions.find((e) => e.core === c.execution!.core && e.startedMs === c.execution!.startedMs && e.endedMs === c.execution!.endedMs);
      if (!same) executions.push(c.execution);
    }
    if (logits) {
      const w = typedView(expect(c.logits, "logits", "f32", mode === "LOGITS_ALL" ? [n, T, o.V] : [n, o.V]) as never) as Float32Array;
      logits.set(w, c.rowStart * (mode === "LOGITS_ALL" ? T * o.V : o.V));
    }
    if (hidden) {
      const w = typedView(expect(c.hidden, "hidden", "f32", [L, n, T, o.C]) as never) as Float32Array;
      for (let l = 0; l < L; l++) hidden.set(w.subarray(l * n * T * o.C, (l + 1) * n * T * o.C), ((l * B + c.rowStart) * T) * o.C);
    }
    if (lens) {
      const w = typedView(expect(c.lens, "lens", "i32", [L + 1, n, T]) as never) as Int32Array;
      for (let l = 0; l <= L; l++) lens.set(w.subarray(l * n * T, (l + 1) * n * T), (l * B + c.rowStart) * T);
    }
  }
  return { ok: true, reply: { chunks, logits, hidden, lens, executions, rowOrder }, ms: performance.now() - t0 };
}

/** Largest |a - b| over the first `n` values of rows laid out with `stride`, and where. */
export function maxDiff(a: Float32Array, aAt: number, b: Float32Array, bAt: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[aAt + i]! - b[bAt + i]!);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

export function allZero(a: Float32Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[at + i] !== 0) return false;
  return true;
}

export function argmax(a: Float32Array, at: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[at + i]! > a[at + best]!) best = i;
  return best;
}

/** "OUT_OF_RANGE SEQUENCE_TOO_LONG" for a failure, "OK" for a success. */
export const statusOf = (o: Outcome): string => (o.ok ? "OK" : `${o.error.status} ${o.error.reason ?? "(no ErrorInfo reason)"}`);
