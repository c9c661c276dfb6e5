// Durable work queues on JetStream, one stream per job kind.
//
//   submit(id, body)   publishes a job; the job id is the JetStream message id, so submitting the
//                      same id twice within the duplicate window stores it once
//   process(handler)   a pull consumer with explicit acks. While a handler runs, in-progress
//                      acks keep the job from being redelivered. A handler that throws gets the
//                      job back after backoff[attempt-1] (a NAK with delay); one that throws
//                      PermanentJobError, or fails on its last attempt, or a job whose every
//                      attempt crashed its worker (delivery maxAttempts+1), goes to the
//                      dead-letter stream with the reason in its headers. Undecodable jobs go
//                      there at once. Nothing is dropped.
//
// Handlers must be idempotent: a worker killed after finishing a job but before its ack
// reaches the server gets the job again. Publish results with publishOnce(msgId = job id).
import { AckPolicy, DeliverPolicy, type JsMsg, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { headers, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  type BodyOf,
  type Codec,
  type Envelope,
  type MessageDef,
  createCodec,
  createRegistry,
  createStamper,
  deadLetterStreamName,
  deadLetterSubject,
  parseBody,
  workStreamName,
  workSubject,
} from "../../protocol/mod.js";
import { isPermanentJobError } from "../errors.js";
import type { Logger } from "../logger.js";
import { ensureStream, manager, publishOnce } from "./jetstream.js";
import { reconnectSafe } from "./retry.js";
import { type WorkerHandle, runWorker } from "./worker.js";

export interface WorkQueueOptions {
  run: string;
  /** the sender address written into job envelopes */
  from?: string;
  codec?: Codec;
  /** attempts before a failing job is dead-lettered (default 5) */
  maxAttempts?: number;
  /** redelivery delay after the n-th failed attempt (default 1 s, 5 s, 15 s, 30 s...) */
  backoffMs?: readonly number[];
  /** a job whose worker neither acks nor reports progress for this long is redelivered (default 30 s) */
  ackWaitMs?: number;
  /** window in which a resubmitted job id is dropped as a duplicate (default 10 min) */
  duplicateWindowMs?: number;
  /** durable consumer name shared by the workers of this queue (default "workers") */
  consumer?: string;
  storage?: "file" | "memory";
  log?: Logger;
}

export interface Job<B> {
  readonly id: string;
  readonly body: B;
  /** 1 on the first delivery */
  readonly attempt: number;
  readonly envelope: Envelope<B>;
  /** tells the server the job is still being worked on (also sent automatically) */
  working(): void;
  readonly signal: AbortSignal;
}

export interface ProcessOptions {
  /** jobs handled at once by this worker (default 1) */
  concurrency?: number;
  signal?: AbortSignal;
  /**
   * Hears every job this worker dead-letters, before the dead letter is acknowledged — e.g. to
   * record the failure where the job's submitter looks (a job whose every attempt crashed its
   * worker never got to say so itself). Its errors are logged; the dead letter stays stored.
   */
  onDeadLetter?: (letter: Omit<DeadLetter, "data">) => Promise<void> | void;
}

export interface DeadLetter {
  readonly jobId: string;
  readonly reason: "permanent" | "failed" | "exhausted" | "undecodable";
  readonly error: string;
  readonly attempts: number;
  readonly data: Uint8Array;
}

export interface QueueInfo {
  /** jobs not yet delivered */
  pending: number;
  /** jobs delivered and not yet acknowledged */
  ackPending: number;
  /** jobs waiting for a redelivery */
  redelivered: number;
  deadLetters: number;
}

export interface WorkQueue<M extends MessageDef> {
  readonly stream: string;
  readonly subject: string;
  readonly deadLetterStream: string;
  submit(id: string, body: BodyOf<M>): Promise<{ duplicate: boolean; seq: number }>;
  process(handler: (job: Job<BodyOf<M>>) => Promise<void>, opts?: ProcessOptions): Promise<WorkerHandle>;
  deadLetters(): Promise<DeadLetter[]>;
  info(): Promise<QueueInfo>;
}

export const JOB_ID_HEADER = "Troupe-Job-Id";

export async function openWorkQueue<M extends MessageDef>(
  nc: NatsConnection,
  def: M,
  opts: WorkQueueOptions,
): Promise<WorkQueue<M>> {
  const { run } = opts;
  const kind = def.kind.replace(/[^A-Za-z0-9_-]/g, "_");
  const codec = opts.codec ?? createCodec();
  const stamper = createStamper(run, opts.from ?? `troupe.${run}._client.wq`);
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoffMs = opts.backoffMs ?? [1000, 5000, 15_000, 30_000];
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const consumer = opts.consumer ?? "workers";
  const storage = opts.storage === "memory" ? StorageType.Memory : StorageType.File;
  const stream = workStreamName(run, kind);
  const subject = workSubject(run, kind);
  const dlStream = deadLetterStreamName(run, kind);
  const dlSubject = deadLetterSubject(run, kind);
  const registry = createRegistry([def]);

  const jsm: JetStreamManager = await manager(nc);
  await ensureStream(jsm, {
    name: stream,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    storage,
    duplicate_window: nanos(opts.duplicateWindowMs ?? 10 * 60_000),
  });
  await ensureStream(jsm, { name: dlStream, subjects: [dlSubject], storage, duplicate_window: nanos(10 * 60_000) });
  try {
    await jsm.consumers.info(stream, consumer);
  } catch {
    await jsm.consumers
      .add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ackWaitMs),
        // one delivery more than attempts: the extra one only moves the job to the dead letters
        max_deliver: maxAttempts + 1,
        filter_subject: subject,
        max_ack_pending: 10_000,
      })
      .catch(async (err) => {
        await jsm.consumers.info(stream, consumer).catch(() => {
          throw err;
        });
      });
  }

  // an ack is repeated across a reconnect (acknowledging twice is harmless); one that still
  // cannot reach the server within the ack wait throws, and the job is redelivered later
  const ack = (m: JsMsg, what: string) => reconnectSafe(nc, () => m.ackAck({ timeout: 5000 }), { what, deadlineMs: ackWaitMs });

  type Hook = ProcessOptions["onDeadLetter"];
  async function deadLetter(m: JsMsg, jobId: string, reason: DeadLetter["reason"], error: string, hook: Hook): Promise<void> {
    const h = headers();
    h.set(JOB_ID_HEADER, jobId);
    h.set("Troupe-Reason", reason);
    h.set("Troupe-Error", error.replace(/[\r\n]+/g, " ").slice(0, 1000));
    h.set("Troupe-Attempts", String(m.info.deliveryCount));
    await publishOnce(nc, dlSubject, m.data, { msgId: `${stream}-${m.seq}`, headers: h });
    try {
      await hook?.({ jobId, reason, error, attempts: m.info.deliveryCount });
    } catch (err) {
      opts.log?.error({ jobId, reason, err: (err as Error).message }, "the dead-letter hook failed; the dead letter is stored");
    }
    await ack(m, `ack of dead letter ${jobId}`);
    opts.log?.warn({ jobId, reason, error }, "job dead-lettered");
  }

  async function handle(m: JsMsg, handler: (job: Job<BodyOf<M>>) => Promise<void>, stop: AbortSignal, hook: Hook): Promise<void> {
    const jobId = m.headers?.get(JOB_ID_HEADER) || `seq-${m.seq}`;
    const attempt = m.info.deliveryCount;
    if (attempt > maxAttempts) {
      await deadLetter(m, jobId, "exhausted", `no attempt of ${maxAttempts} finished (worker crashed or timed out)`, hook);
      return;
    }
    let env: Envelope;
    try {
      env = codec.decode(m.data);
      parseBody(env, registry);
    } catch (err) {
      await deadLetter(m, jobId, "undecodable", (err as Error).message, hook);
      return;
    }
    const progress = setInterval(() => m.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    let failure: unknown = undefined;
    let failed = false;
    try {
      await handler({
        id: jobId,
        body: env.body as BodyOf<M>,
        attempt,
        envelope: env as Envelope<BodyOf<M>>,
        working: () => m.working(),
        signal: stop,
      });
    } catch (err) {
      failed = true;
      failure = err;
    } finally {
      clearInterval(progress);
    }
    // an ack that fails to reach the server throws from here: the job is redelivered later
    if (!failed) {
      if (nc.isClosed()) throw new Error("connection closed before the job could be acknowledged");
      await ack(m, `ack of ${jobId}`);
      return;
    }
    const message = (failure as Error)?.message ?? String(failure);
    if (isPermanentJobError(failure)) return deadLetter(m, jobId, "permanent", message, hook);
    if (attempt >= maxAttempts) return deadLetter(m, jobId, "failed", message, hook);
    const delay = backoffMs[Math.min(attempt - 1, backoffMs.length - 1)] ?? 1000;
    opts.log?.info({ jobId, attempt, delay, err: message }, "job failed; will retry");
    m.nak(delay);
  }

  return {
    stream,
    subject,
    deadLetterStream: dlStream,
    async submit(id, body) {
      const h = headers();
      h.set(JOB_ID_HEADER, id);
      const data = codec.encode(stamper.stamp(def.kind, body));
      const pa = await publishOnce(nc, subject, data, { msgId: id, headers: h });
      return { duplicate: pa.duplicate, seq: pa.seq };
    },
    process(handler, popts = {}) {
      return runWorker({
        nc,
        js: jsm.jetstream(),
        stream,
        consumer,
        concurrency: popts.concurrency ?? 1,
        signal: popts.signal,
        log: opts.log,
        handle: (m, stop) => handle(m, handler, stop, popts.onDeadLetter),
      });
    },
    async deadLetters() {
      const out: DeadLetter[] = [];
      const info = await jsm.streams.info(dlStream);
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const sm = await jsm.streams.getMessage(dlStream, { seq }).catch(() => null);
        if (!sm) continue;
        out.push({
          jobId: sm.header.get(JOB_ID_HEADER),
          reason: sm.header.get("Troupe-Reason") as DeadLetter["reason"],
          error: sm.header.get("Troupe-Error"),
          attempts: Number(sm.header.get("Troupe-Attempts")),
          data: sm.data,
        });
      }
      return out;
    },
    async info() {
      const ci = await jsm.consumers.info(stream, consumer);
      const dl = await jsm.streams.info(dlStream);
      return {
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        deadLetters: dl.state.messages,
      };
    },
  };
}
