// What the director's stage work needs: the run, its spec and record in KV, the trainer's
// job queue, a way to call the teacher and the evaluator, and where progress reports arrive.
import { type Logger, type NatsConnection, type RunState, type WorkQueue, pause } from "../../../hosts/mod.js";
import type { BodyOf, MessageDef, ReplyOf } from "../../../protocol/mod.js";
import { isCallTimeoutError, isNoResponderError } from "../../errors.js";
import type { LossValues } from "../../director/mod.js";
import type { Peer } from "../../runtime/mod.js";
import type { JobState } from "../jobs.js";
import { CancelJob, type TrainJob } from "../messages.js";
import type { RunRecord } from "../records.js";
import type { RunSpec } from "../spec.js";

export interface WorkDeps {
  readonly runId: string;
  readonly spec: RunSpec;
  readonly nc: NatsConnection;
  readonly peer: Peer;
  readonly record: RunRecord;
  readonly queue: WorkQueue<typeof TrainJob>;
  readonly jobs: RunState<JobState>;
  /**
   * The director's record of a training attempt: the last step on its loss curve, the step
   * its chart is at, and a way to put a replayed point on the curve without telling the chart
   * again (a resumed director replays the progress stream from the curve's last step).
   */
  readonly curve: {
    recordedStep(stage: number, attempt: number): number;
    chartStep(stage: number, attempt: number): number;
    record(stage: number, attempt: number, step: number, losses: LossValues): void;
  };
  readonly log: Logger;
  /** True while the director process shuts down: aborted work is then not cancelled. */
  readonly shuttingDown: () => boolean;
  /** Longest wait for one teacher or evaluator reply (default 10 min). */
  readonly callTimeoutMs?: number;
}

/** How the director's work runs a stage job: cancelled on abort unless the director is shutting down. */
export function jobOptions(deps: WorkDeps, signal: AbortSignal) {
  return {
    signal,
    cancelOnAbort: () => !deps.shuttingDown(),
    notifyCancel: (jobId: string, reason: string) => void deps.peer.broadcast({ role: "trainer" }, CancelJob, { jobId, reason }).catch(() => undefined),
  };
}

/**
 * Calls one actor of `role`, retrying while none answers (it is starting or being restarted
 * by its supervisor) until `signal` aborts. Other failures reject at once.
 */
export async function callRole<M extends MessageDef>(
  deps: WorkDeps,
  role: string,
  def: M,
  body: BodyOf<M>,
  signal: AbortSignal,
): Promise<ReplyOf<M>> {
  let wait = 100;
  for (;;) {
    signal.throwIfAborted();
    try {
      return await abortable(deps.peer.choose(role, def, body, { timeoutMs: deps.callTimeoutMs ?? 600_000 }), signal);
    } catch (err) {
      if (!isNoResponderError(err) && !isCallTimeoutError(err)) throw err;
      deps.log.warn({ role, kind: def.kind, err: (err as Error).message }, "no answer; retrying");
      await pause(wait, signal);
      wait = Math.min(wait * 2, 2000);
    }
  }
}

export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

