// The director as a process of the cast (role "director"). It takes the run's director lease
// (the next epoch: every earlier director is fenced out from then on), reads the run's spec
// from KV, starts the curriculum statechart — or resumes it from the snapshot in KV, which is
// what a restart after a crash, a kill -9 or a SIGTERM does — and persists every transition
// through the KV SnapshotStore (compare-and-set on the revision, and only while its epoch is
// current). Its StageWork calls the trainer, teacher and evaluator over NATS and follows the
// trainer's progress stream. It records the loss curves from its own snapshots
// (troupe_<run>_run/losses, restored on resume; a resumed director replays the progress it
// missed), writes the run summary to KV when the run ends, and then stops (exit 0: not
// restarted).
// How it ends otherwise:
//   displaced  another director took the lease (seen when renewing it every 2 s, or at a
//              save): it stops at once, cancels nothing, writes nothing more, exits 0 — the
//              run goes on under the newer director
//   failed     a save failed while it still owns the run (NATS away past every retry): it
//              exits 1 without cancelling anything, and its supervisor restarts it to resume
import { type Lease, isFencedError } from "../../hosts/mod.js";
import {
  createDirectorObserver,
  createLossRecorder,
  type LossRecorder,
  type LossRecorderState,
  type DirectorHandle,
  type StageId,
  isDirectorStoppedError,
  isSnapshotConflictError,
  resumeDirector,
  startDirector,
  systemClock,
} from "../director/mod.js";
import { t } from "../../protocol/mod.js";
import { type ActorContext, defineActor } from "../runtime/mod.js";
import { openJobQueue, openJobStates } from "./jobs.js";
import { ensureProgressStream } from "./progress.js";
import { openDirectorLease, openRunRecord, RUN_KEYS, type RunRecord } from "./records.js";
import { createKvSnapshotStore, fencedSnapshotStore, takeOverSnapshot } from "./snapshots.js";
import { createCastWork } from "./work/mod.js";
import { type CastKeeper, type CastStopKind, releasePlacements, startCastKeeper } from "./placement/mod.js";

const LOSS_SAVE_MS = 2000;
/** How often the director renews its lease (and so notices a successor without saving). */
const LEASE_RENEW_MS = 2000;

let handle: DirectorHandle | null = null;
let stopping = false;
let displacedBy: Error | null = null;
let saveLosses: (() => Promise<void>) | null = null;
let keeper: { stop(): void } | null = null;
/** Places the cast on the scenario's hosts and keeps it placed (runs with hosts: only). */
let cast: CastKeeper | null = null;

function lossSaver(record: RunRecord, recorder: LossRecorder, checkOwner: () => Promise<void>, ctx: ActorContext) {
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  let chain = Promise.resolve();
  const save = () => {
    chain = chain
      .then(async () => {
        if (displacedBy) return;
        dirty = false;
        await checkOwner(); // a displaced director's curve must not overwrite its successor's
        await record.put(RUN_KEYS.losses, recorder.toJSON());
      })
      .catch((err: unknown) => {
        if (!isFencedError(err)) ctx.log.warn({ err: (err as Error).message }, "could not save the loss curves");
      });
    return chain;
  };
  return {
    touch() {
      dirty = true;
      timer ??= setTimeout(() => {
        timer = null;
        if (dirty) void save();
      }, LOSS_SAVE_MS);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = null;
      await save();
    },
  };
}

/** Whether an error (or one of its causes) says this director lost the run to a newer one. */
function fencedIn(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (isFencedError(e)) return true;
  return false;
}

/** Stops this director for good: another one owns the run. Cancels nothing, saves nothing. */
function displaced(ctx: ActorContext, err: Error): void {
  if (displacedBy || stopping) return;
  displacedBy = err;
  keeper?.stop();
  cast?.stop();
  ctx.log.warn({ err: err.message }, "another director owns the run now; stopping without touching its work");
  void handle?.stop({ flush: false });
  ctx.stop(`displaced: ${err.message}`);
}

async function stillOwner(lease: Lease, epoch: number): Promise<boolean> {
  return (await lease.current())?.epoch === epoch;
}

export default defineActor({
  role: "director",
  config: t.optional(t.object({})),
  handlers: [],
  async onStart(ctx) {
    const runId = ctx.run;
    const lease = await openDirectorLease(ctx.nc, runId, ctx.address);
    const { epoch } = await lease.acquire();
    const checkOwner = async () => void (await lease.check(epoch));
    const record = await openRunRecord(ctx.nc, runId, ctx.address);
    const spec = await record.spec();
    const store = fencedSnapshotStore(await createKvSnapshotStore(ctx.nc, runId, { from: ctx.address }), checkOwner);
    await takeOverSnapshot(store, runId);
    keeper = lease.keep(epoch, {
      everyMs: LEASE_RENEW_MS,
      onFenced: (err) => displaced(ctx, err),
      onError: (err) => ctx.log.warn({ err: err.message }, "could not renew the director lease; trying again"),
    });
    await ensureProgressStream(ctx.nc, runId);
    const recorder = createLossRecorder({ restore: await record.get<LossRecorderState>(RUN_KEYS.losses) });
    const saver = lossSaver(record, recorder, checkOwner, ctx);
    saveLosses = saver.flush;
    const work = createCastWork({
      runId,
      spec,
      nc: ctx.nc,
      peer: ctx,
      record,
      queue: await openJobQueue(ctx.nc, runId, ctx.address),
      jobs: await openJobStates(ctx.nc, runId, ctx.address),
      curve: {
        recordedStep: (stage, attempt) => {
          const series = recorder.series(stage as StageId).find((s) => s.attempt === attempt);
          const points = series?.terms.total?.points ?? [];
          return points.length > 0 ? points[points.length - 1]!.step : 0;
        },
        chartStep: (stage, attempt) => {
          const p = handle?.context().progress;
          return p && p.stage === stage && p.attempt === attempt ? p.step : 0;
        },
        record: (stage, attempt, step, losses) => {
          recorder.add({ stage: stage as StageId, attempt, step, losses });
          saver.touch();
        },
      },
      log: ctx.log,
      // work aborted because this director stops, lost a save or lost the run is resumed by the
      // next director, never cancelled
      shuttingDown: () => stopping || displacedBy !== null || handle?.halted === true,
      owner: { epoch, check: checkOwner },
    });
    const observer = createDirectorObserver();

    const ended = (h: DirectorHandle) => void h.done.then(async (result) => {
      if (displacedBy || stopping) return;
      if (result instanceof Error) {
        if (isDirectorStoppedError(result)) return;
        if (fencedIn(result) || (isSnapshotConflictError(result) && !(await stillOwner(lease, epoch).catch(() => true)))) {
          displaced(ctx, result);
          return;
        }
        keeper?.stop();
        ctx.log.error({ err: result.message }, "the director failed; exiting so that the supervisor restarts it (nothing was cancelled)");
        setImmediate(() => {
          throw result;
        });
        return;
      }
      await saver.flush();
      try {
        await checkOwner(); // only the owner ends the run
        await record.put(RUN_KEYS.summary, result);
      } catch (err) {
        if (isFencedError(err)) return displaced(ctx, err);
        throw err;
      }
      keeper?.stop();
      // the run is over: its actors on hosts stop
      if (spec.placement) await (cast ? cast.release() : releasePlacements(ctx.nc, runId, ctx.address).then(() => undefined)).catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, "could not remove the run's placements"));
      ctx.log.info({ outcome: result.outcome }, "run over");
      ctx.stop(`run ${result.outcome}`);
    });
    const stored = await store.load(runId);
    const begin = async () => {
      if (stopping || displacedBy) return;
      handle = stored
        ? await resumeDirector({ runId, store, work, clock: systemClock })
        : await startDirector({ runId, plan: spec.curriculum, available: spec.available, work, store, clock: systemClock });
      ctx.log.info({ resumed: stored !== null, revision: stored?.revision ?? 0, epoch }, stored ? "director resumed from its snapshot" : "director started");
      const observe = (s: { value: unknown; context: unknown }, replay: boolean) => {
        for (const e of observer.observe(s as never)) {
          // a resumed director's first snapshot replays the last progress it had; the curve gets
          // the missed steps from the progress stream instead, in order
          if (replay && e.type === "progress") continue;
          recorder.handle(e);
          if (e.type === "progress") saver.touch();
          else void saver.flush();
        }
      };
      observe(handle.actor.getSnapshot(), stored !== null);
      handle.actor.subscribe((s) => observe(s, false));
      if (castStop) handle.actor.send({ type: "cast.lost", ...castStop });
      ended(handle);
    };
    // With hosts: the chart starts once the cast is placed on them (the director waits for the
    // hosts first), or at once to stop with a report when it cannot be. Not inside onStart:
    // waiting for hosts may take longer than an actor may take to start.
    let castStop: { kind: CastStopKind; reason: string } | null = null;
    if (spec.placement && stored?.snapshot.status !== "done") {
      cast = startCastKeeper({
        nc: ctx.nc, runId, placement: spec.placement, record, epoch, from: ctx.address, checkOwner, log: ctx.log,
        onStop: (s) => {
          castStop = { kind: s.kind, reason: s.reason };
          handle?.actor.send({ type: "cast.lost", ...castStop });
        },
      });
      void cast.ready.then(begin).catch((err: unknown) => {
        ctx.log.error({ err: (err as Error).message }, "the director could not start; exiting so that the supervisor restarts it");
        setImmediate(() => {
          throw err;
        });
      });
    } else await begin();
  },
  async onStop() {
    const wasDisplaced = displacedBy !== null;
    stopping = true;
    keeper?.stop();
    cast?.stop(); // the placement stays: the next director resumes it
    await handle?.stop({ flush: !wasDisplaced });
    if (!wasDisplaced) await saveLosses?.();
  },
});
