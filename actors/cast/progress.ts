// Training progress on JetStream: the trainer publishes its per-step losses to the run's
// progress stream (TROUPE_<run>_PROGRESS, subject troupe.<run>._progress.<job id>), so the
// curves survive a director that was down while the trainer went on: a resumed director
// reads the job's progress from the start and skips the steps it already recorded. Anyone
// may also listen on the subject with a plain subscription (the owner's progress view).
import { DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import { type NatsConnection, ensureStream, linkState, pause, publishOnce } from "../../hosts/mod.js";
import { type Codec, type Stamper, checkToken, createCodec } from "../../protocol/mod.js";
import { TrainProgress, type TrainProgressBody } from "./messages.js";

export const progressStreamName = (run: string): string => `TROUPE_${checkToken("run", run)}_PROGRESS`;
export const progressSubject = (run: string, jobId: string): string => `troupe.${checkToken("run", run)}._progress.${checkToken("kind", jobId)}`;

export async function ensureProgressStream(nc: NatsConnection, run: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, {
    name: progressStreamName(run),
    subjects: [`troupe.${checkToken("run", run)}._progress.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
  });
}

type Point = TrainProgressBody["points"][number];

/** The trainer's side: points are sent every `everyMs` (and on flush), in order, durably. */
export function progressPublisher(o: {
  nc: NatsConnection;
  run: string;
  head: Omit<TrainProgressBody, "points">;
  /** Distinguishes this delivery's messages from an earlier trainer's (dedup ids). */
  delivery: number;
  stamper: Stamper;
  codec?: Codec;
  everyMs?: number;
  onError?: (err: Error) => void;
}) {
  const codec = o.codec ?? createCodec();
  const subject = progressSubject(o.run, o.head.jobId);
  let points: Point[] = [];
  let last = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const send = () => {
    if (points.length === 0) return chain;
    const body: TrainProgressBody = { ...o.head, points };
    const msgId = `${o.head.jobId}.${o.delivery}.${points[0]!.step}`;
    points = [];
    last = Date.now();
    const data = codec.encode(o.stamper.stamp(TrainProgress.kind, body));
    chain = chain.then(() => publishOnce(o.nc, subject, data, { msgId, deadlineMs: 30_000 }).catch((err: Error) => o.onError?.(err)));
    return chain;
  };
  return {
    add(p: Point, final: boolean) {
      points.push(p);
      if (p.step === 1 || final || Date.now() - last >= (o.everyMs ?? 250)) void send();
    },
    /** Sends what is pending and resolves when every message is stored. */
    flush: async () => {
      await send();
    },
  };
}

/**
 * The director's side: every point of a job's progress with a step above `after`, in order,
 * from the start of the stream, until `signal` aborts. Resolves promptly on abort whenever it
 * comes — also before the consumer exists (a resumed director whose job was already over
 * aborts at once: guards #16 item 1, where the abort came before the listener and the loop
 * never ended). Survives a server restart: nats.js's ordered consumer stalls after one (it was
 * seen to deliver 10 more messages, then none), so after every reconnect the consumer is
 * opened again from the stream sequence after the last message read.
 */
export async function followProgress(
  nc: NatsConnection,
  run: string,
  jobId: string,
  after: number,
  onPoint: (p: Point) => void,
  signal: AbortSignal,
): Promise<void> {
  const js = jetstream(nc);
  const link = linkState(nc);
  const aborted = new Promise<null>((resolve) => signal.addEventListener("abort", () => resolve(null), { once: true }));
  const codec = createCodec();
  let lastStep = after;
  let nextSeq = 1;
  while (!signal.aborted) {
    const from = nextSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: nextSeq } : { deliver_policy: DeliverPolicy.All };
    let messages: ConsumerMessages | null = null;
    try {
      const consumer = await Promise.race([js.consumers.get(progressStreamName(run), { filter_subjects: progressSubject(run, jobId), ...from }), aborted]);
      if (!consumer || signal.aborted) return;
      const opening = consumer.consume();
      messages = await Promise.race([opening, aborted]);
      if (!messages || signal.aborted) {
        void opening.then((m) => m.stop(), () => undefined);
        return;
      }
    } catch {
      await pause(200, signal); // NATS away or JetStream recovering: open again
      continue;
    }
    const it = messages;
    const stop = () => it.stop();
    signal.addEventListener("abort", stop, { once: true });
    // after a reconnect, read on from where this consumer got to with a fresh one
    const cancel = link.onDisconnect(() => void link.whenConnected().then(stop));
    if (signal.aborted) stop();
    try {
      for await (const m of it) {
        nextSeq = m.seq + 1;
        try {
          const env = codec.decode(m.data);
          const body = TrainProgress.body.parse(env.body, env.kind);
          for (const p of body.points) {
            if (p.step <= lastStep) continue; // recorded before, or repeated by a resumed trainer
            lastStep = p.step;
            onPoint(p);
          }
        } catch {
          // a progress message we cannot read is a missing point, never a wrong one
        }
      }
    } catch {
      await pause(200, signal);
    } finally {
      cancel();
      signal.removeEventListener("abort", stop);
    }
    await pause(50, signal);
  }
}
