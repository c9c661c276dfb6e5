// Running one checked Forward request on the core it holds: its executions one after another
// (each in its own smallest fitting bucket), each cut into reply chunks of about
// CHUNK_TARGET_BYTES, written as soon as the execution is done.
// Legend: R rows of an execution, n rows of a chunk, T request time, V vocab, C channels,
// L hidden layers.
import { wireTensor } from "../../../protocol/mod.js";
import type { ExecutionPlan } from "../buckets.js";
import { CHUNK_TARGET_BYTES, type Execution, type ForwardChunk, type Tensor } from "../proto.js";
import type { ModelShape } from "./core-messages.js";
import type { HeldCore } from "./cores.js";
import type { CheckedRequest } from "./validate.js";

const tensor = (dtype: "f32" | "i32", shape: number[], data: Float32Array | Int32Array): Tensor => {
  const w = wireTensor(dtype, shape, data);
  return { dtype: w.dtype, shape: [...w.shape], data: w.data };
};

/** Rows [from, from + n) of an array laid out [G, R, ...row] (G groups of R rows of `row` values). */
function rowsOf<A extends Float32Array | Int32Array>(x: A, G: number, R: number, row: number, from: number, n: number): A {
  if (G === 1 && from === 0 && n === R) return x;
  const out = new (x.constructor as new (len: number) => A)(G * n * row);
  for (let g = 0; g < G; g++) out.set(x.subarray((g * R + from) * row, (g * R + from + n) * row), g * n * row);
  return out;
}

export interface ForwardContext {
  readonly shape: ModelShape;
  /** ms since the worker started */
  readonly clock: () => number;
  readonly acceptedAt: number;
  readonly signal: AbortSignal;
}

/** Runs the plans on `core`; calls `write` with each chunk, in row order. */
export async function runForward(req: CheckedRequest, plans: readonly ExecutionPlan[], core: HeldCore, ctx: ForwardContext, write: (c: ForwardChunk) => void): Promise<void> {
  const { vocabSize: V, nEmbd: C } = ctx.shape;
  const { T } = req;
  const L = req.layers.length;
  const rowBytes = 4 * ((req.logits === "all" ? T * V : req.logits === "last" ? V : 0) + L * T * C + (req.lens ? (L + 1) * T : 0));
  const perChunk = Math.max(1, Math.floor(CHUNK_TARGET_BYTES / Math.max(1, rowBytes)));
  for (const plan of plans) {
    ctx.signal.throwIfAborted();
    const startedMs = ctx.clock();
    const done = await core.run({
      bucket: plan.bucket,
      tokens: req.tokens.subarray(plan.start * T, (plan.start + plan.rows) * T),
      T,
      lengths: req.lengths.slice(plan.start, plan.start + plan.rows),
      layers: req.layers,
      logits: req.logits,
      hidden: L > 0,
      lens: req.lens,
    });
    const endedMs = ctx.clock();
    const execution: Execution = {
      bucket: { ...plan.bucket },
      core: core.index,
      realTokens: plan.realTokens,
      paddedTokens: plan.bucket.batch * plan.bucket.seqLen - plan.realTokens,
      queuedMs: plan.start === 0 ? startedMs - ctx.acceptedAt : 0,
      computeMs: done.computeMs,
      startedMs,
      endedMs,
    };
    const R = plan.rows;
    for (let from = 0; from < R; from += perChunk) {
      const n = Math.min(perChunk, R - from);
      const chunk: ForwardChunk = { rowStart: plan.start + from, rows: n, logits: null, hidden: null, lens: null, execution };
      if (done.logits) {
        chunk.logits = req.logits === "all"
          ? tensor("f32", [n, T, V], rowsOf(done.logits, 1, R, T * V, from, n))
          : tensor("f32", [n, V], rowsOf(done.logits, 1, R, V, from, n));
      }
      if (done.hidden) chunk.hidden = tensor("f32", [L, n, T, C], rowsOf(done.hidden, L, R, T * C, from, n));
      if (done.lens) chunk.lens = tensor("i32", [L + 1, n, T], rowsOf(done.lens, L + 1, R, T, from, n));
      write(chunk);
    }
  }
}
