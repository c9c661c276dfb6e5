// What a training job actually did, read from the run's progress stream rather than from the
// trainer's own record: every point the trainer published, grouped by delivery (the progress
// message id is `<job>.<delivery>.<first step>`). A restarted trainer's delivery starts at the
// step after the checkpoint it resumed from, so the stream says where each resume began —
// `chaos kill-trainer` checks the job state's `resumedFrom` against it.
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "../../hosts/mod.js";
import { createCodec } from "../../protocol/mod.js";
import { TrainProgress, ensureProgressStream, progressStreamName, progressSubject } from "../cast/mod.js";

export interface ProgressTrail {
  /** First and last step published by each delivery of the job, in delivery order. */
  deliveries(): { delivery: number; first: number; last: number; points: number }[];
  /** The step each later delivery resumed from: its first published step − 1. */
  resumedFrom(): number[];
  stop(): Promise<void>;
}

/** Follows the job's progress from the start of the stream until stop(). */
export async function followProgressTrail(nc: NatsConnection, run: string, jobId: string): Promise<ProgressTrail> {
  await ensureProgressStream(nc, run);
  const consumer = await jetstream(nc).consumers.get(progressStreamName(run), {
    filter_subjects: progressSubject(run, jobId),
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume();
  const codec = createCodec();
  const by = new Map<number, { first: number; last: number; points: number }>();
  const reading = (async () => {
    for await (const m of messages) {
      const id = m.headers?.get("Nats-Msg-Id") ?? "";
      const delivery = Number(id.split(".").at(-2));
      if (!Number.isInteger(delivery)) continue;
      try {
        const env = codec.decode(m.data);
        const body = TrainProgress.body.parse(env.body, env.kind);
        for (const p of body.points) {
          const d = by.get(delivery) ?? { first: p.step, last: p.step, points: 0 };
          d.first = Math.min(d.first, p.step);
          d.last = Math.max(d.last, p.step);
          d.points++;
          by.set(delivery, d);
        }
      } catch {
        // an unreadable message is a gap in the trail, never a made-up point
      }
    }
  })().catch(() => undefined);
  const deliveries = () => [...by.entries()].sort((a, b) => a[0] - b[0]).map(([delivery, d]) => ({ delivery, ...d }));
  return {
    deliveries,
    resumedFrom: () => deliveries().slice(1).map((d) => d.first - 1),
    async stop() {
      messages.stop();
      await reading;
    },
  };
}
