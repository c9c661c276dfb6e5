// The conformance checks on behaviour: every error code on bad input (with its ErrorInfo
// reason in the status details), the max_in_flight limit, one request per core at a time, and
// drain. Drain ends the worker, so the suite runs it last.
import { POOL_ERROR_DOMAIN, REASON_CODES, type PoolReason } from "../../../protocol/mod.js";
import type { PoolCallError } from "../../errors.js";
import { bucketName } from "../buckets.js";
import { type Ask, type Outcome, send, statusOf, tokenRows } from "./probe.js";
import { type Ctx, Failure, io, ok } from "./checks.js";

function expectRefusal(o: Outcome, reason: PoolReason, what: string): string {
  const want = `${REASON_CODES[reason]} ${reason}`;
  if (o.ok) throw new Failure(`${what}: expected ${want}, the worker answered OK`);
  const e = o.error;
  if (statusOf(o) !== want) throw new Failure(`${what}: expected ${want}, got ${statusOf(o)} (${e.message})`);
  if (e.domain !== POOL_ERROR_DOMAIN) throw new Failure(`${what}: the status details' ErrorInfo domain is ${JSON.stringify(e.domain)}, expected ${POOL_ERROR_DOMAIN}`);
  return `${want}${Object.keys(e.details).length ? ` {${Object.entries(e.details).map(([k, v]) => `${k}: ${v}`).join(", ")}}` : ""}`;
}

interface ErrorCase {
  readonly name: string;
  readonly reason: PoolReason;
  readonly ask: (c: Ctx) => Ask | null;
  readonly raw?: (c: Ctx) => Parameters<Ctx["client"]["forward"]>[0];
}

const shortest = (c: Ctx) => c.buckets.reduce((m, b) => Math.min(m, b.seqLen), Infinity);
const longest = (c: Ctx) => c.buckets.reduce((m, b) => Math.max(m, b.seqLen), 0);

export const ERROR_CASES: readonly ErrorCase[] = [
  { name: "unknown model", reason: "MODEL_NOT_FOUND", ask: (c) => ({ tokens: tokenRows(1, 1, 4, c.model.vocabSize), B: 1, T: 4, modelId: `${c.model.id}-not-this-one` }) },
  { name: "sequence too long for every bucket", reason: "SEQUENCE_TOO_LONG", ask: (c) => ({ tokens: tokenRows(2, 1, longest(c) + 1, c.model.vocabSize), B: 1, T: longest(c) + 1 }) },
  { name: "tokens not i32", reason: "WRONG_DTYPE", ask: () => null, raw: () => ({ modelId: "", tokens: { dtype: "f32", shape: [1, 4], data: new Uint8Array(16) }, lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "conformance" }) },
  { name: "an output dtype not offered", reason: "WRONG_DTYPE", ask: (c) => ({ tokens: tokenRows(3, 1, 4, c.model.vocabSize), B: 1, T: 4, dtype: "q4_0" }) },
  { name: "a shape that does not match its bytes", reason: "BAD_TENSOR", ask: () => null, raw: () => ({ modelId: "", tokens: { dtype: "i32", shape: [1, 4], data: new Uint8Array(12) }, lengths: [], outputs: { logits: "LOGITS_LAST", hiddenLayers: [], lens: false, dtype: "" }, requestId: "conformance" }) },
  { name: "a length of 0", reason: "BAD_LENGTHS", ask: (c) => ({ tokens: tokenRows(4, 2, 4, c.model.vocabSize), B: 2, T: 4, lengths: [4, 0] }) },
  { name: "a token id = vocab_size", reason: "TOKEN_OUT_OF_RANGE", ask: (c) => ({ tokens: Int32Array.from([1, 2, c.model.vocabSize, 3]), B: 1, T: 4 }) },
  { name: "hidden layer n_layer + 1", reason: "LAYER_OUT_OF_RANGE", ask: (c) => ({ tokens: tokenRows(5, 1, 4, c.model.vocabSize), B: 1, T: 4, layers: [c.model.nLayer + 1] }) },
  { name: "no outputs asked for", reason: "NO_OUTPUTS", ask: (c) => ({ tokens: tokenRows(6, 1, 4, c.model.vocabSize), B: 1, T: 4, logits: "LOGITS_NONE" }) },
  {
    name: "more rows than max_rows",
    reason: "TOO_MANY_ROWS",
    ask: (c) => (c.info.maxRows < 65_536 ? { tokens: tokenRows(8, c.info.maxRows + 1, 1, c.model.vocabSize), B: c.info.maxRows + 1, T: 1 } : null),
  },
];

/** Each bad input gets its status code and ErrorInfo reason (domain pool.troupe.dev). */
export async function errorCase(c: Ctx, k: ErrorCase): Promise<string> {
  const a = k.ask(c);
  let o: Outcome | undefined;
  if (a) o = await send(c.client, a, io(c));
  else if (k.raw) {
    const t0 = performance.now();
    try {
      await c.client.forward(k.raw(c));
    } catch (error) {
      o = { ok: false, error: error as PoolCallError, ms: performance.now() - t0 };
    }
    if (!o!) throw new Failure(`${k.name}: expected ${REASON_CODES[k.reason]} ${k.reason}, the worker answered OK`);
  } else return "skipped (max_rows is too large to exceed cheaply)";
  return expectRefusal(o!, k.reason, k.name);
}

/** More requests at once than max_in_flight: the excess is refused with RESOURCE_EXHAUSTED / OVERLOADED, the rest served. */
export async function overload(c: Ctx): Promise<string> {
  const b = c.buckets[c.buckets.length - 1]!;
  const n = c.info.maxInFlight + 2 * c.info.cores + 2;
  for (let round = 1; round <= 3; round++) {
    const rows = b.batch * round;
    const tokens = tokenRows(11, rows, b.seqLen, c.model.vocabSize);
    const outs = await Promise.all(Array.from({ length: n }, () => send(c.client, { tokens, B: rows, T: b.seqLen, logits: "LOGITS_LAST" }, io(c))));
    const refused = outs.filter((o) => !o.ok);
    const other = refused.find((o) => statusOf(o) !== "RESOURCE_EXHAUSTED OVERLOADED");
    if (other) throw new Failure(`a burst of ${n} requests got ${statusOf(other)}; only RESOURCE_EXHAUSTED OVERLOADED is expected beyond max_in_flight`);
    for (const o of outs) if (o.ok) c.executions.push(...o.reply.executions);
    if (refused.length > 0) {
      if (n - refused.length < c.info.cores) throw new Failure(`a burst of ${n}: only ${n - refused.length} served, fewer than the ${c.info.cores} cores`);
      return `a burst of ${n} requests (${rows}x${b.seqLen} each, max_in_flight ${c.info.maxInFlight}): ${n - refused.length} served, ${refused.length} refused with RESOURCE_EXHAUSTED OVERLOADED`;
    }
  }
  throw new Failure(`bursts of ${n} requests (max_in_flight ${c.info.maxInFlight}) were all accepted: the limit is not enforced`);
}

/** No two executions overlap on one core, and never more at once than the worker has cores. */
export async function cores(c: Ctx): Promise<string> {
  const ex = c.executions;
  if (ex.length === 0) throw new Failure("no executions were reported");
  const bad = ex.find((e) => !(e.core >= 0 && e.core < c.info.cores));
  if (bad) throw new Failure(`an execution reports core ${bad.core}; the worker has ${c.info.cores}`);
  for (let k = 0; k < c.info.cores; k++) {
    const mine = ex.filter((e) => e.core === k).sort((a, b) => a.startedMs - b.startedMs);
    for (let i = 1; i < mine.length; i++) {
      if (mine[i]!.startedMs < mine[i - 1]!.endedMs - 1e-6) {
        throw new Failure(`core ${k} ran two executions at once: ${mine[i - 1]!.startedMs.toFixed(1)}–${mine[i - 1]!.endedMs.toFixed(1)} ms and ${mine[i]!.startedMs.toFixed(1)}–${mine[i]!.endedMs.toFixed(1)} ms (${bucketName(mine[i]!.bucket!)})`);
      }
    }
  }
  const used = new Set(ex.map((e) => e.core)).size;
  return `${ex.length} executions on ${used} of ${c.info.cores} cores, never two at once on a core`;
}

/**
 * The spot notice: Drain while requests are held. New work is refused with UNAVAILABLE /
 * DRAINING, Health says DRAINING, the held requests complete, and the worker goes away within
 * the deadline.
 */
export async function drain(c: Ctx, deadlineMs: number): Promise<string> {
  const b = c.buckets[c.buckets.length - 1]!;
  // Held work: every in-flight slot but one (the new request must not meet the in-flight
  // limit) with as many rows as the worker takes, so new work can be sent while it runs even on
  // a loaded machine — unless that would not finish within half the deadline at the fastest of
  // three timings of the largest bucket.
  const one = tokenRows(20, b.batch, b.seqLen, c.model.vocabSize);
  let perExecMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const probe = await ok(c, send(c.client, { tokens: one, B: b.batch, T: b.seqLen, logits: "LOGITS_LAST" }, io(c)), "timing the largest bucket");
    perExecMs = Math.min(perExecMs, Math.max(0.05, probe.executions[0]?.computeMs ?? 1));
  }
  const count = Math.max(1, c.info.maxInFlight - 1);
  const waves = Math.ceil(count / c.info.cores);
  const execs = Math.floor(deadlineMs / 2 / (waves * perExecMs));
  const rows = Math.min(c.info.maxRows, b.batch * Math.max(1, execs));
  const tokens = tokenRows(21, rows, b.seqLen, c.model.vocabSize);
  const held = Array.from({ length: count }, () => send(c.client, { tokens, B: rows, T: b.seqLen, logits: "LOGITS_LAST" }, io(c)));
  // the worker must hold them when the notice comes: wait until Health counts them in flight
  const until = Date.now() + 30_000;
  while ((await c.client.health()).inFlight < count) {
    if (Date.now() > until) throw new Failure(`the worker never reported the ${count} held requests in flight (Health in_flight)`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const t0 = Date.now();
  const reply = await c.client.drain({ deadlineMs, reason: "conformance" });
  const fresh = await send(c.client, { tokens: tokens.subarray(0, b.seqLen), B: 1, T: b.seqLen, logits: "LOGITS_LAST" }, io(c));
  if (statusOf(fresh) !== "UNAVAILABLE DRAINING") throw new Failure(`a request sent after Drain got ${statusOf(fresh)}, expected UNAVAILABLE DRAINING (new work must be refused while held work finishes)`);
  const h = await c.client.health().catch(() => null);
  if (h && h.state !== "DRAINING") throw new Failure(`Health says ${h.state} after Drain, expected DRAINING`);
  const outs = await Promise.all(held);
  const lost = outs.filter((o) => !o.ok);
  if (lost.length > 0) throw new Failure(`${lost.length} of ${outs.length} requests held at the drain notice failed: ${statusOf(lost[0]!)} (they must be finished within the deadline)`);
  const limit = t0 + deadlineMs + 5000;
  for (;;) {
    const alive = await c.client.health(1000).then(() => true, () => false);
    if (!alive) break;
    if (Date.now() > limit) throw new Failure(`the worker still answers ${deadlineMs + 5000} ms after the drain notice; it must exit`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return `Drain held ${reply.held} request(s) of ${rows} rows (deadline ${reply.deadlineMs} ms): new work refused with UNAVAILABLE DRAINING, Health DRAINING, the ${outs.length} held requests completed, the worker left after ${Date.now() - t0} ms`;
}
