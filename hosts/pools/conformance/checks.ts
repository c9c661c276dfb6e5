// The conformance checks on shapes and numbers: the description, health, bucket selection,
// padding against an unpadded reference, the output kinds, and streaming. Each returns a line
// saying what it saw, or throws a Failure saying precisely what was wrong. (Error codes, the
// overload limit, core exclusivity and drain are in behaviour.ts.)
// Legend: B rows, S a bucket's seq_len, T request time, V vocab, C channels.
import { type Bucket, bucketName, checkBuckets, planExecutions, smallestFitting } from "../buckets.js";
import type { WorkerClient } from "../client.js";
import type { DescribeReply, Execution, ModelInfo } from "../proto.js";
import { type Outcome, type Reply, allZero, argmax, maxDiff, send, statusOf, tokenRows } from "./probe.js";

export class Failure extends Error {}

export interface Ctx {
  readonly client: WorkerClient;
  readonly info: DescribeReply;
  readonly model: ModelInfo;
  /** sorted smallest first */
  readonly buckets: readonly Bucket[];
  readonly atol: number;
  readonly readyTimeoutMs: number;
  /** every execution any check saw (for the core checks) */
  readonly executions: Execution[];
}

const V = (c: Ctx) => c.model.vocabSize;
export const io = (c: Ctx) => ({ V: c.model.vocabSize, C: c.model.nEmbd });

export async function ok(c: Ctx, o: Promise<Outcome>, what: string): Promise<Reply> {
  const r = await o;
  if (!r.ok) throw new Failure(`${what}: the worker answered ${statusOf(r)}: ${r.error.message}`);
  c.executions.push(...r.reply.executions);
  return r.reply;
}

const largest = (c: Ctx) => c.buckets.reduce((m, b) => (b.batch * b.seqLen > m.batch * m.seqLen ? b : m), c.buckets[0]!);

export async function describe(c: Ctx): Promise<string> {
  const d = c.info;
  if (d.protocolVersion !== 1) throw new Failure(`protocol_version is ${d.protocolVersion}, expected 1`);
  try {
    checkBuckets(d.buckets, c.model.maxSeqLen || undefined);
  } catch (err) {
    throw new Failure(`buckets: ${(err as Error).message}`);
  }
  if (d.cores < 1) throw new Failure(`cores is ${d.cores}`);
  if (d.maxInFlight < d.cores) throw new Failure(`max_in_flight ${d.maxInFlight} is below cores ${d.cores}`);
  const big = d.buckets.reduce((m, b) => Math.max(m, b.batch), 0);
  if (d.maxRows < big) throw new Failure(`max_rows ${d.maxRows} is below the largest bucket batch ${big}`);
  if (!d.outputDtypes.includes("f32")) throw new Failure(`output_dtypes ${JSON.stringify(d.outputDtypes)} lacks f32`);
  const m = c.model;
  if (!/^[0-9a-f]{64}$/.test(m.digest)) throw new Failure(`model digest ${JSON.stringify(m.digest)} is not a SHA-256 in hex`);
  if (!(m.vocabSize > 0 && m.nLayer > 0 && m.nEmbd > 0)) throw new Failure(`model shape vocab ${m.vocabSize}, n_layer ${m.nLayer}, n_embd ${m.nEmbd}`);
  return `protocol 1, backend ${d.backend}, model ${m.id} (${m.arch}, vocab ${m.vocabSize}, ${m.nLayer} layers, ${m.nEmbd} channels), buckets ${d.buckets.map(bucketName).join(",")}, ${d.cores} cores, max_in_flight ${d.maxInFlight}`;
}

export async function health(c: Ctx): Promise<string> {
  const h = await c.client.health();
  if (h.state !== "SERVING" || !h.ready) throw new Failure(`state ${h.state}, ready ${h.ready}; expected SERVING and ready`);
  if (h.modelDigest !== c.model.digest) throw new Failure(`Health names digest ${h.modelDigest.slice(0, 16)}…, Describe ${c.model.digest.slice(0, 16)}…`);
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => (w.cancel(), reject(new Failure("Watch sent nothing within 5 s"))), 5000);
    const w = c.client.watch((x) => (clearTimeout(timer), w.cancel(), resolve(x.state)), (err) => (clearTimeout(timer), reject(new Failure(`Watch ended: ${err?.message ?? "without a state"}`))));
  });
  if (first !== "SERVING") throw new Failure(`Watch's first state is ${first}, Health's SERVING`);
  return "SERVING and ready, same model digest as Describe; Watch sends the state at once";
}

/** Each bucket, exactly filled: runs in that bucket with no padding. */
export async function exactBuckets(c: Ctx): Promise<string> {
  const seen: string[] = [];
  for (const b of c.buckets) {
    const tokens = tokenRows(b.batch * 7 + b.seqLen, b.batch, b.seqLen, V(c));
    const r = await ok(c, send(c.client, { tokens, B: b.batch, T: b.seqLen, logits: "LOGITS_LAST" }, io(c)), `exact ${bucketName(b)}`);
    if (r.executions.length !== 1) throw new Failure(`an exact ${bucketName(b)} request ran as ${r.executions.length} executions`);
    const e = r.executions[0]!;
    if (e.bucket?.batch !== b.batch || e.bucket.seqLen !== b.seqLen) throw new Failure(`an exact ${bucketName(b)} request ran in bucket ${e.bucket ? bucketName(e.bucket) : "(none)"}`);
    if (e.paddedTokens !== 0 || e.realTokens !== b.batch * b.seqLen) throw new Failure(`an exact ${bucketName(b)} request reports ${e.realTokens} real and ${e.paddedTokens} padded tokens`);
    if (!r.logits!.every(Number.isFinite)) throw new Failure(`bucket ${bucketName(b)} returned non-finite logits`);
    seen.push(bucketName(b));
  }
  return `${seen.length} buckets each ran exactly filled, unpadded: ${seen.join(", ")}`;
}

/** Requests that fit no bucket exactly run in the smallest that holds them, with the padding counted. */
export async function smallestBucket(c: Ctx): Promise<string> {
  const cases: { B: number; lengths: number[] }[] = [];
  const seqs = [...new Set(c.buckets.map((b) => b.seqLen))].sort((a, b) => a - b);
  seqs.forEach((s, i) => {
    const len = i === 0 ? Math.max(1, s - 1) : seqs[i - 1]! + 1; // just above the next shorter seq_len
    const batches = [...new Set(c.buckets.filter((b) => b.seqLen >= len).map((b) => b.batch))].sort((a, b) => a - b);
    for (const B of [1, ...batches.map((b) => b + 1).filter((b) => b <= batches[batches.length - 1]!)]) {
      cases.push({ B, lengths: Array.from({ length: B }, (_, k) => Math.max(1, len - (k % 3))) });
    }
  });
  const lines: string[] = [];
  for (const k of cases.slice(0, 12)) {
    const T = Math.max(...k.lengths);
    const r = await ok(c, send(c.client, { tokens: tokenRows(T + k.B, k.B, T, V(c)), B: k.B, T, lengths: k.lengths, logits: "LOGITS_LAST" }, io(c)), `${k.B} rows of lengths ${k.lengths.join(",")}`);
    const plans = planExecutions(c.buckets, k.lengths)!;
    if (r.executions.length !== plans.length) throw new Failure(`${k.B} rows of lengths ${k.lengths.join(",")}: ${r.executions.length} executions, expected ${plans.length}`);
    plans.forEach((p, i) => {
      const e = r.executions[i]!;
      const want = smallestFitting(c.buckets, p.rows, Math.max(...k.lengths.slice(p.start, p.start + p.rows)))!;
      if (e.bucket?.batch !== want.batch || e.bucket.seqLen !== want.seqLen) {
        throw new Failure(`${p.rows} rows of lengths ${k.lengths.slice(p.start, p.start + p.rows).join(",")} ran in ${e.bucket ? bucketName(e.bucket) : "(none)"}; the smallest bucket that fits is ${bucketName(want)}`);
      }
      if (e.realTokens !== p.realTokens || e.paddedTokens !== want.batch * want.seqLen - p.realTokens) {
        throw new Failure(`bucket ${bucketName(want)} with ${p.realTokens} real tokens reports ${e.realTokens} real and ${e.paddedTokens} padded`);
      }
    });
    lines.push(`${k.B}x[${k.lengths.join(",")}]→${r.executions.map((e) => bucketName(e.bucket!)).join("+")}`);
  }
  return `${lines.length} requests ran in the smallest fitting bucket: ${lines.join(" ")}`;
}

/**
 * Padding is masked: rows of a padded request (shorter, fewer, reordered) give the logits the
 * same rows give in an exactly filled, unpadded request, at every real position; padded
 * positions are zeros.
 */
export async function padding(c: Ctx): Promise<string> {
  const b = largest(c);
  const S = b.seqLen;
  const ref = tokenRows(99, b.batch, S, V(c));
  const R = await ok(c, send(c.client, { tokens: ref, B: b.batch, T: S }, io(c)), `unpadded reference ${bucketName(b)}`);
  const rows = Math.max(1, b.batch - 1);
  const order = Array.from({ length: rows }, (_, i) => (b.batch - 1 - i + b.batch) % b.batch); // reversed
  const lengths = order.map((_, i) => Math.max(1, Math.floor((S * (i + 1)) / (rows + 1))));
  const tokens = new Int32Array(rows * S);
  order.forEach((src, i) => tokens.set(ref.subarray(src * S, src * S + lengths[i]!), i * S));
  const P = await ok(c, send(c.client, { tokens, B: rows, T: S, lengths }, io(c)), "padded request");
  let worst = 0;
  order.forEach((src, i) => {
    const d = maxDiff(P.logits!, i * S * V(c), R.logits!, src * S * V(c), lengths[i]! * V(c));
    if (!(d <= c.atol)) throw new Failure(`row ${i} (length ${lengths[i]}, reference row ${src}): logits differ from the unpadded reference by ${d.toExponential(2)} > ${c.atol}`);
    worst = Math.max(worst, d);
    if (!allZero(P.logits!, (i * S + lengths[i]!) * V(c), (S - lengths[i]!) * V(c))) throw new Failure(`row ${i}: logits at padded positions ${lengths[i]}..${S - 1} are not zeros`);
  });
  return `${rows} reordered rows of lengths ${lengths.join(",")} padded into ${P.executions.map((e) => bucketName(e.bucket!)).join("+")} match the unpadded ${bucketName(b)} reference within ${worst.toExponential(2)} (atol ${c.atol}); padded positions are zeros`;
}

/** LOGITS_LAST, hidden states and the logit lens agree with LOGITS_ALL; padding is masked in each. */
export async function outputs(c: Ctx): Promise<string> {
  const b = largest(c);
  const S = b.seqLen;
  const rows = Math.min(3, b.batch);
  const lengths = Array.from({ length: rows }, (_, i) => Math.max(1, S - 2 * i - 1));
  const tokens = tokenRows(7, rows, S, V(c));
  const layers = [0, c.model.nLayer];
  const all = await ok(c, send(c.client, { tokens, B: rows, T: S, lengths, layers, lens: true }, io(c)), "logits, hidden and lens");
  const last = await ok(c, send(c.client, { tokens, B: rows, T: S, lengths, logits: "LOGITS_LAST" }, io(c)), "LOGITS_LAST");
  const v = V(c);
  const C = c.model.nEmbd;
  const L = layers.length;
  for (let i = 0; i < rows; i++) {
    const n = lengths[i]!;
    const d = maxDiff(last.logits!, i * v, all.logits!, (i * S + n - 1) * v, v);
    if (!(d <= c.atol)) throw new Failure(`row ${i}: LOGITS_LAST differs from LOGITS_ALL at position ${n - 1} by ${d.toExponential(2)}`);
    for (let l = 0; l < L; l++) {
      if (!allZero(all.hidden!, ((l * rows + i) * S + n) * C, (S - n) * C)) throw new Failure(`row ${i}: hidden layer ${layers[l]} is not zero at padded positions ${n}..${S - 1}`);
    }
    for (let p = 0; p < S; p++) {
      const got = all.lens![(L * rows + i) * S + p]!;
      const want = p < n ? argmax(all.logits!, (i * S + p) * v, v) : -1;
      if (got !== want) throw new Failure(`row ${i}, position ${p}: the final lens entry is ${got}, expected ${want} (${p < n ? "argmax of the logits" : "-1 at padding"})`);
    }
  }
  return `LOGITS_LAST equals LOGITS_ALL at each row's last position; hidden layers ${layers.join(",")} are [${L},${rows},${S},${C}] with zeros at padding; the lens' final entry is the logits' argmax, -1 at padding`;
}

/** A request with more rows than the largest batch: several executions, streamed in row order, same numbers. */
export async function streaming(c: Ctx): Promise<string> {
  const s = c.buckets.reduce((m, b) => Math.min(m, b.seqLen), Infinity);
  const big = c.buckets.filter((b) => b.seqLen >= s).reduce((m, b) => Math.max(m, b.batch), 0);
  const B = Math.min(c.info.maxRows, 2 * big + 1);
  const tokens = tokenRows(5, B, s, V(c));
  const r = await ok(c, send(c.client, { tokens, B, T: s }, io(c)), `${B} rows`);
  if (r.chunks.length < 2) throw new Failure(`${B} rows (largest batch ${big}) came back in ${r.chunks.length} chunk`);
  const order = r.rowOrder.join();
  if (order !== Array.from({ length: B }, (_, i) => i).join()) throw new Failure(`chunks cover rows in the order ${order}, expected 0..${B - 1} once each`);
  const one = await ok(c, send(c.client, { tokens: tokens.subarray((B - 1) * s), B: 1, T: s }, io(c)), "the last row alone");
  const d = maxDiff(r.logits!, (B - 1) * s * V(c), one.logits!, 0, s * V(c));
  if (!(d <= c.atol)) throw new Failure(`the last row differs from the same row sent alone by ${d.toExponential(2)}`);
  return `${B} rows streamed in ${r.chunks.length} chunks from ${r.executions.length} executions, rows in order once each; the last row equals itself sent alone (${d.toExponential(2)})`;
}
