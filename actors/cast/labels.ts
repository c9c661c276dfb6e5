// The oracle's work and what it writes. Prompt batches to label go on a JetStream work queue
// (cast.oracle.job; several oracles take from it, a killed one's batch comes back after the ack
// wait); label batches go to the run's label stream TROUPE_<run>_LABELS, subject
// troupe.<run>._labels.<stage>.<lane>, with the job id as the message id — so a batch stored
// twice (its oracle died between storing it and acknowledging the job) is stored once. Readers
// count what they find: batches present, messages, and duplicates (messages beyond one per
// batch — 0 while the dedup holds; a test turns it off and sees them).
import { DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { type NatsConnection, type WorkQueue, type WorkQueueOptions, ensureStream, openWorkQueue, publishOnce } from "../../hosts/mod.js";
import type { ExternalLabels } from "../../models/mod.js";
import { type Codec, type Stamper, type WireTensor, checkToken, createCodec, typedView } from "../../protocol/mod.js";
import { OracleJob, OracleLabels, type OracleLabelsBody } from "./agp-messages.js";
import { StageRecordError } from "./errors.js";

export const labelStreamName = (run: string): string => `TROUPE_${checkToken("run", run)}_LABELS`;
export const labelSubject = (run: string, stage: number, lane: string): string => `troupe.${checkToken("run", run)}._labels.s${stage}.${checkToken("kind", lane)}`;
export const oracleJobId = (stage: number, lane: string, batch: number): string => `oracle-s${stage}-${lane}-b${batch}`;

/** Every opener of the oracle queue passes the same options (the first one fixes the consumer). */
export const ORACLE_QUEUE_OPTIONS: Omit<WorkQueueOptions, "run"> = {
  maxAttempts: 10,
  backoffMs: [250, 500, 1000],
  // a killed oracle's batch comes back this long after its last sign of life
  ackWaitMs: 3000,
};

export function openOracleQueue(nc: NatsConnection, runId: string, from?: string): Promise<WorkQueue<typeof OracleJob>> {
  return openWorkQueue(nc, OracleJob, { ...ORACLE_QUEUE_OPTIONS, run: runId, ...(from ? { from } : {}) });
}

export async function ensureLabelStream(nc: NatsConnection, run: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, {
    name: labelStreamName(run),
    subjects: [`troupe.${checkToken("run", run)}._labels.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    // longer than any redelivery of a batch: a relabelled batch is a duplicate the server drops
    duplicate_window: nanos(30 * 60_000),
  });
}

/**
 * Stores one label batch. `dedup: false` (a test's knob) publishes without the message id, so
 * a batch labelled twice is stored twice — what the duplicate counter is there to catch.
 */
export async function publishLabels(
  nc: NatsConnection,
  run: string,
  body: OracleLabelsBody,
  o: { stamper: Stamper; codec?: Codec; dedup?: boolean },
): Promise<{ duplicate: boolean }> {
  const codec = o.codec ?? createCodec();
  const data = codec.encode(o.stamper.stamp(OracleLabels.kind, body));
  const subject = labelSubject(run, body.stage, body.lane);
  if (o.dedup === false) {
    const ack = await jetstream(nc).publish(subject, data, { timeout: 10_000 });
    return { duplicate: ack.duplicate };
  }
  const ack = await publishOnce(nc, subject, data, { msgId: body.jobId, deadlineMs: 60_000 });
  return { duplicate: ack.duplicate };
}

export interface LabelRead {
  /** the first stored copy of each batch, by batch index */
  readonly batches: Map<number, OracleLabelsBody>;
  /** messages on the subject */
  readonly messages: number;
  /** messages beyond one per batch (a batch stored more than once) */
  readonly duplicates: number;
  /** messages that did not decode as label batches (never used) */
  readonly unreadable: number;
}

/** Reads every label batch of (stage, lane) stored so far. */
export async function readLabels(nc: NatsConnection, run: string, stage: number, lane: string, o: { bodies?: boolean } = {}): Promise<LabelRead> {
  await ensureLabelStream(nc, run);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(labelStreamName(run), { filter_subjects: labelSubject(run, stage, lane), deliver_policy: DeliverPolicy.All });
  const pending = (await consumer.info()).num_pending;
  const codec = createCodec();
  const batches = new Map<number, OracleLabelsBody>();
  let messages = 0;
  let unreadable = 0;
  while (messages + unreadable < pending) {
    const iter = await consumer.fetch({ max_messages: Math.min(256, pending - messages - unreadable), expires: 5000 });
    let got = 0;
    for await (const m of iter) {
      got++;
      try {
        const env = codec.decode(m.data);
        const body = OracleLabels.body.parse(env.body, env.kind);
        messages++;
        if (!batches.has(body.batch)) batches.set(body.batch, o.bodies === false ? ({ batch: body.batch } as OracleLabelsBody) : body);
      } catch {
        unreadable++;
      }
    }
    if (got === 0) break; // the stream moved under us (deleted); report what was read
  }
  await consumer.delete().catch(() => undefined);
  return { batches, messages, duplicates: messages - batches.size, unreadable };
}

/** Label batches joined in batch order, in the models layer's form (ExternalLabels), with the oracle's reference norms. */
export interface JoinedLabels {
  readonly labels: ExternalLabels;
  readonly normRef: Map<number, number>;
  readonly batches: number;
  readonly positions: number;
  /** who labelled what: oracle address → batches */
  readonly by: Record<string, number>;
}

/**
 * Every label batch of (stage, lane), checked complete (batches 0..expected-1, each once) and
 * joined. Throws StageRecordError naming what is missing or inconsistent.
 */
export async function collectLabels(nc: NatsConnection, run: string, stage: number, lane: string, expected: number): Promise<JoinedLabels> {
  const read = await readLabels(nc, run, stage, lane);
  const missing = Array.from({ length: expected }, (_, k) => k).filter((k) => !read.batches.has(k));
  if (missing.length > 0) {
    throw new StageRecordError(`the oracle has labelled ${expected - missing.length} of ${expected} batches of lane ${lane} (missing ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", …" : ""})`);
  }
  const bodies = Array.from({ length: expected }, (_, k) => read.batches.get(k)!);
  const heads = bodies[0]!.heads;
  const first = bodies[0]!;
  const perItem: number[] = [];
  const n = bodies.reduce((s, b) => s + b.earliest.shape[0]!, 0);
  const H = heads.length;
  const out = heads.map((layer) => ({ layer, route: new Int32Array(n), routeConfidence: new Float32Array(n), vitality: new Int32Array(n), vitalityConfidence: new Float32Array(n) }));
  const by: Record<string, number> = {};
  let at = 0;
  for (const b of bodies) {
    if (JSON.stringify(b.heads) !== JSON.stringify(heads) || JSON.stringify(b.normRef) !== JSON.stringify(first.normRef)) {
      throw new StageRecordError(`label batch ${b.batch} of lane ${lane} was made with other head layers or reference norms than batch 0 (another model?)`);
    }
    by[b.by] = (by[b.by] ?? 0) + 1;
    perItem.push(...typedView(b.perItem as WireTensor & { dtype: "i32" }));
    const m = b.earliest.shape[0]!;
    const route = typedView(b.route as WireTensor & { dtype: "i32" });
    const rc = typedView(b.routeConfidence as WireTensor & { dtype: "f32" });
    const vit = typedView(b.vitality as WireTensor & { dtype: "i32" });
    const vc = typedView(b.vitalityConfidence as WireTensor & { dtype: "f32" });
    for (let h = 0; h < H; h++) {
      out[h]!.route.set(route.subarray(h * m, (h + 1) * m), at);
      out[h]!.routeConfidence.set(rc.subarray(h * m, (h + 1) * m), at);
      out[h]!.vitality.set(vit.subarray(h * m, (h + 1) * m), at);
      out[h]!.vitalityConfidence.set(vc.subarray(h * m, (h + 1) * m), at);
    }
    at += m;
  }
  return { labels: { perItem, heads: out }, normRef: new Map(heads.map((l, i) => [l, first.normRef[i]!])), batches: expected, positions: n, by };
}

/** Messages stored so far for (stage, lane) — cheap (the stream's per-subject count), for polling. */
export async function labelMessages(nc: NatsConnection, run: string, stage: number, lane: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const subject = labelSubject(run, stage, lane);
  const info = await jsm.streams.info(labelStreamName(run), { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}
