// Stage jobs: the director submits a TrainJob to a JetStream work queue and waits for its
// state in KV (bucket troupe_<run>_jobs, key = job id); the trainer takes the job, writes its
// state as it goes and acknowledges it when it is over. If the trainer dies, the queue gives
// the job to its restarted process after the ack wait, and that one resumes from the job's
// last checkpoint. The job id is the queue's message id and the KV key, so submitting the
// same job again (a resumed director) is a no-op, and a finished job is never redone.
// A cancel carries the epoch of the director that asked for it (its lease, records.ts); the
// trainer refuses a cancel from an epoch that is no longer current. A job the queue
// dead-letters is recorded `failed` here, so the director never polls a job nobody runs.
import {
  type DeadLetter, type Lease, type NatsConnection, type ProcessOptions, type RunState, type WorkQueue, type WorkQueueOptions, type WorkerHandle, type Job,
  isFencedError, openWorkQueue, pause,
} from "../../hosts/mod.js";
import { JobCancelledError, JobFailedError } from "./errors.js";
import { type StoredCheckpoint, TrainJob, type TrainJobBody, type JobKind } from "./messages.js";
import { BUCKETS, openBucket } from "./records.js";

export const JOB_STATES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type JobStateName = (typeof JOB_STATES)[number];

export interface JobResult {
  readonly steps: number;
  /** Mean of the last training losses. */
  readonly trainLoss: number;
  readonly firstLoss: number | null;
  readonly tokensPerS: number;
  readonly wallMs: number;
  /** The checkpoint at the end of training. */
  readonly final: StoredCheckpoint;
  /** Training examples dropped because the eval lane holds the same prompt. */
  readonly removedHeldOut: number;
  readonly examples: number;
  /** heads jobs: the head set written (bucket heads), the adapter parameters in force, and what the stage reported */
  readonly heads?: string;
  readonly adapter?: string | null;
  readonly details?: Record<string, unknown>;
  /** Thunder-Train: the group that trained it (absent: one trainer) */
  readonly dataParallel?: { readonly world: number; readonly outcome: string; readonly lost: readonly number[]; readonly generations: number; readonly sync?: { readonly steps: number; readonly buckets: number; readonly overlapped: number; readonly waitMs: number }; readonly address?: string };
}

export interface JobState {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly stage: number;
  readonly attempt: number;
  readonly state: JobStateName;
  readonly step: number;
  readonly steps: number;
  /** Times a trainer took the job (more than one: a trainer died, or a redelivery). */
  readonly deliveries: number;
  /** Steps of the checkpoints restarted trainers resumed from. */
  readonly resumedFrom: readonly number[];
  /** The newest durable checkpoint. */
  readonly checkpoint: StoredCheckpoint | null;
  readonly result: JobResult | null;
  readonly error: string | null;
  /** Set by the director to stop the job; the trainer marks it cancelled. */
  readonly cancel: string | null;
  /** The director epoch that asked for the cancel; a stale one is refused (absent: before leases). */
  readonly cancelEpoch?: number | null;
  /** Cancels the trainer refused because a newer director owned the run. */
  readonly refusedCancels?: number;
  readonly pids: readonly number[];
  readonly updatedAt: number;
}

/** Every opener of the queue passes the same options (the first one fixes the consumer). */
export const JOB_QUEUE_OPTIONS: Omit<WorkQueueOptions, "run"> = {
  maxAttempts: 20,
  backoffMs: [500, 1000, 2000],
  // a killed trainer's job comes back this long after its last sign of life
  ackWaitMs: 6000,
};

export function openJobQueue(nc: NatsConnection, runId: string, from?: string): Promise<WorkQueue<typeof TrainJob>> {
  return openWorkQueue(nc, TrainJob, { ...JOB_QUEUE_OPTIONS, run: runId, ...(from ? { from } : {}) });
}

export function openJobStates(nc: NatsConnection, runId: string, from?: string): Promise<RunState<JobState>> {
  return openBucket<JobState>(nc, runId, BUCKETS.jobs, from);
}

export function newJobState(job: TrainJobBody): JobState {
  return {
    jobId: job.jobId,
    kind: job.kind,
    stage: job.stage,
    attempt: job.attempt,
    state: "queued",
    step: 0,
    steps: job.steps,
    deliveries: 0,
    resumedFrom: [],
    checkpoint: null,
    result: null,
    error: null,
    cancel: null,
    cancelEpoch: null,
    pids: [],
    updatedAt: Date.now(),
  };
}

export interface RunJobOptions {
  readonly signal: AbortSignal;
  /** Poll interval of the job's state (default 200 ms). */
  readonly pollMs?: number;
  /** Whether an abort should cancel the job (false while the director itself stops or lost the run). */
  readonly cancelOnAbort?: () => boolean;
  /** The epoch of the director asking (its lease); written with the cancel. */
  readonly epoch?: number;
  /** Rejects (FencedError) if the asking director no longer owns the run: then nothing is cancelled. */
  readonly checkOwner?: () => Promise<void>;
  /** Tells the trainer at once (the KV flag is the durable copy). */
  readonly notifyCancel?: (jobId: string, reason: string) => void;
  /** Hears a cancel that could not be written (NATS away past every retry). */
  readonly onCancelError?: (jobId: string, err: Error) => void;
}

/**
 * Submits `job` (a no-op if it was submitted before) and resolves with its final state once
 * it is done; rejects with JobFailedError or JobCancelledError, or with the abort reason.
 */
export async function runJob(
  queue: WorkQueue<typeof TrainJob>,
  states: RunState<JobState>,
  job: TrainJobBody,
  o: RunJobOptions,
): Promise<JobState> {
  const known = await states.get(job.jobId);
  if (!known) {
    await states.cas(job.jobId, newJobState(job), 0).catch(() => undefined); // someone wrote it first: fine
  }
  const settled = settledState(known?.value, job.jobId);
  if (settled) return settled;
  await queue.submit(job.jobId, job);
  const pollMs = o.pollMs ?? 200;
  for (;;) {
    if (o.signal.aborted) {
      if (o.cancelOnAbort?.() ?? true) await cancelOnAbort(states, job.jobId, o);
      throw o.signal.reason instanceof Error ? o.signal.reason : new Error(String(o.signal.reason ?? "aborted"));
    }
    const s = await states.get(job.jobId).catch(() => null);
    const done = settledState(s?.value, job.jobId);
    if (done) return done;
    await pause(pollMs, o.signal);
  }
}

async function cancelOnAbort(states: RunState<JobState>, jobId: string, o: RunJobOptions): Promise<void> {
  const r = o.signal.reason as Error | undefined;
  const reason = r instanceof Error && r.name !== "AbortError" ? r.message : `the director aborted ${jobId} (its attempt timed out, or the run was stopped)`;
  try {
    await o.checkOwner?.();
    // reconnect-safe KV: the write waits out an outage and is retried, never dropped
    await cancelJob(states, jobId, reason, o.epoch ?? null);
    o.notifyCancel?.(jobId, reason);
  } catch (err) {
    if (isFencedError(err)) return; // a newer director owns the run: its work is not ours to cancel
    o.onCancelError?.(jobId, err as Error);
  }
}

function settledState(s: JobState | undefined, jobId: string): JobState | null {
  if (!s) return null;
  if (s.state === "done") return s;
  if (s.state === "failed") throw new JobFailedError(jobId, s.error ?? "no reason recorded");
  if (s.state === "cancelled") throw new JobCancelledError(jobId, s.cancel ?? "no reason recorded");
  return null;
}

const settled = (s: JobState | undefined) => s?.state === "done" || s?.state === "failed" || s?.state === "cancelled";

/**
 * Whether a cancel asked with `epoch` comes from the director that owns the run now (the
 * trainer's side of fencing): a cancel from an older epoch is refused. Without a lease record
 * (a run nobody directed yet) every cancel counts.
 */
export async function cancelFromOwner(lease: Lease, epoch: number | null | undefined): Promise<boolean> {
  const cur = await lease.current();
  return !cur || (epoch ?? 0) >= cur.epoch;
}

/** Asks the trainer to stop the job (durable: a trainer that takes it later sees it too). */
export async function cancelJob(states: RunState<JobState>, jobId: string, reason: string, epoch: number | null = null): Promise<void> {
  await states.update(jobId, (prev) => ({ ...(prev ?? { jobId } as JobState), cancel: reason, cancelEpoch: epoch, updatedAt: Date.now() }));
}

/** Records a dead-lettered job as failed (unless it settled before), with why. */
export async function recordDeadLetter(states: RunState<JobState>, letter: Omit<DeadLetter, "data">): Promise<void> {
  await states.update(letter.jobId, (prev) =>
    settled(prev)
      ? prev!
      : { ...(prev ?? { jobId: letter.jobId } as JobState), state: "failed", error: `dead-lettered (${letter.reason}) after ${letter.attempts} deliveries: ${letter.error}`, updatedAt: Date.now() },
  );
}

/** Takes stage jobs from the queue; a job the queue dead-letters is recorded failed in KV. */
export function processJobs(
  queue: WorkQueue<typeof TrainJob>,
  states: RunState<JobState>,
  handler: (job: Job<TrainJobBody>) => Promise<void>,
  opts: Omit<ProcessOptions, "onDeadLetter"> = {},
): Promise<WorkerHandle> {
  return queue.process(handler, { ...opts, onDeadLetter: (letter) => recordDeadLetter(states, letter) });
}
