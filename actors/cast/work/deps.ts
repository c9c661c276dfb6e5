// What the director's stage work needs: the run, its spec and record in KV, the trainer's
// job queue, a way to call the teacher and the evaluator, and where progress reports arrive.
import { DisconnectedError, type Logger, type NatsConnection, type RunState, type WorkQueue, linkState, pause } from "../../../hosts/mod.js";
import type { BodyOf, MessageDef, ReplyOf } from "../../../protocol/mod.js";
import { isCallTimeoutError, isNoResponderError } from "../../errors.js";
import type { LossValues } from "../../director/mod.js";
import type { Peer } from "../../runtime/mod.js";
import type { JobState, RunJobOptions } from "../jobs.js";
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
  /**
   * True while the director process shuts down, after its chart was halted (a failed save), or
   * once another director took the run: aborted work is then not cancelled.
   */
  readonly shuttingDown: () => boolean;
  /** The director's lease epoch, and a check that it still owns the run (FencedError if not). */
  readonly owner?: { readonly epoch: number; check(): Promise<void> };
  /** Longest wait for one teacher or evaluator reply before the call is sent again (default 30 s). */
  readonly callTimeoutMs?: number;
}

/**
 * How long one call to the teacher or the evaluator may go unanswered before it is sent again.
 * Their calls are idempotent (the evaluator caches scores by checkpoint and lane and answers
 * one message at a time, so a repeat behind a slow first one is answered from the cache; the
 * teacher stores captures under a fixed name), so a lost reply costs this long at most.
 */
export const CALL_TIMEOUT_MS = 30_000;

/**
 * How the director's work runs a stage job: cancelled on abort only when the chart itself gave
 * up on it (attempt timeout, run limit) and this director still owns the run; the cancel
 * carries its epoch, so a trainer refuses it once a newer director took over.
 */
export function jobOptions(deps: WorkDeps, signal: AbortSignal): RunJobOptions {
  const epoch = deps.owner?.epoch ?? 0;
  return {
    signal,
    cancelOnAbort: () => !deps.shuttingDown(),
    epoch,
    ...(deps.owner ? { checkOwner: () => deps.owner!.check() } : {}),
    notifyCancel: (jobId: string, reason: string) => void deps.peer.broadcast({ role: "trainer" }, CancelJob, { jobId, reason, epoch }).catch(() => undefined),
    onCancelError: (jobId, err) => deps.log.error({ jobId, err: err.message }, "the job's cancel could not be written; the broadcast is all the trainer got"),
  };
}

/**
 * Calls one actor of `role` until it answers: while none answers (it is starting or being
 * restarted by its supervisor), while the connection to NATS is down (a call in flight at a
 * disconnect fails at once and is sent again after the reconnect), and after a lost reply (no
 * answer within `callTimeoutMs`), until `signal` aborts. Other failures reject at once.
 */
export async function callRole<M extends MessageDef>(
  deps: Pick<WorkDeps, "peer" | "nc" | "log" | "callTimeoutMs">,
  role: string,
  def: M,
  body: BodyOf<M>,
  signal: AbortSignal,
): Promise<ReplyOf<M>> {
  let wait = 100;
  const link = linkState(deps.nc);
  for (;;) {
    signal.throwIfAborted();
    if (!link.connected) await abortable(link.whenConnected(), signal);
    try {
      return await abortable(deps.peer.choose(role, def, body, { timeoutMs: deps.callTimeoutMs ?? CALL_TIMEOUT_MS }), signal);
    } catch (err) {
      if (err instanceof DisconnectedError && !deps.nc.isClosed()) {
        deps.log.warn({ role, kind: def.kind }, "the connection to NATS dropped during the call; sending it again once connected");
        continue;
      }
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

