// The director as a process of the cast (role "director"). It reads the run's spec from KV,
// starts the curriculum statechart — or resumes it from the snapshot in KV when one exists,
// which is what happens when its supervisor restarts it after a crash or a kill -9 — and
// persists every transition through the KV SnapshotStore (compare-and-set on the revision).
// Its StageWork calls the trainer, teacher and evaluator over NATS and follows the trainer's
// progress stream. It records the loss curves from its own snapshots (troupe_<run>_run/losses,
// restored on resume; a resumed director replays the progress it missed), writes the
// run summary to KV when the run ends, and then stops (exit 0: not restarted). A director
// whose snapshot save fails (another director owns the run, or KV is gone) exits 1, and its
// supervisor restarts it to resume from what is stored.
import {
  createDirectorObserver,
  createLossRecorder,
  type LossRecorder,
  type LossRecorderState,
  type DirectorHandle,
  type StageId,
  isDirectorStoppedError,
  resumeDirector,
  startDirector,
  systemClock,
} from "../director/mod.js";
import { t } from "../../protocol/mod.js";
import { type ActorContext, defineActor } from "../runtime/mod.js";
import { openJobQueue, openJobStates } from "./jobs.js";
import { ensureProgressStream } from "./progress.js";
import { openRunRecord, RUN_KEYS, type RunRecord } from "./records.js";
import { createKvSnapshotStore } from "./snapshots.js";
import { createCastWork } from "./work/mod.js";

const LOSS_SAVE_MS = 2000;

let handle: DirectorHandle | null = null;
let stopping = false;
let saveLosses: (() => Promise<void>) | null = null;

function lossSaver(record: RunRecord, recorder: LossRecorder, ctx: ActorContext) {
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  let chain = Promise.resolve();
  const save = () => {
    chain = chain
      .then(async () => {
        dirty = false;
        await record.put(RUN_KEYS.losses, recorder.toJSON());
      })
      .catch((err: unknown) => ctx.log.warn({ err: (err as Error).message }, "could not save the loss curves"));
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

export default defineActor({
  role: "director",
  config: t.optional(t.object({})),
  handlers: [],
  async onStart(ctx) {
    const runId = ctx.run;
    const record = await openRunRecord(ctx.nc, runId, ctx.address);
    const spec = await record.spec();
    const store = await createKvSnapshotStore(ctx.nc, runId, { from: ctx.address });
    await ensureProgressStream(ctx.nc, runId);
    const recorder = createLossRecorder({ restore: await record.get<LossRecorderState>(RUN_KEYS.losses) });
    const saver = lossSaver(record, recorder, ctx);
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
      shuttingDown: () => stopping,
    });
    const observer = createDirectorObserver();

    const stored = await store.load(runId);
    handle = stored
      ? await resumeDirector({ runId, store, work, clock: systemClock })
      : await startDirector({ runId, plan: spec.curriculum, available: spec.available, work, store, clock: systemClock });
    ctx.log.info({ resumed: stored !== null, revision: stored?.revision ?? 0 }, stored ? "director resumed from its snapshot" : "director started");
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

    void handle.done.then(async (result) => {
      await saver.flush();
      if (result instanceof Error) {
        if (stopping || isDirectorStoppedError(result)) return;
        ctx.log.error({ err: result.message }, "the director failed; exiting so that the supervisor restarts it");
        setImmediate(() => {
          throw result;
        });
        return;
      }
      await record.put(RUN_KEYS.summary, result);
      ctx.log.info({ outcome: result.outcome }, "run over");
      ctx.stop(`run ${result.outcome}`);
    });
  },
  async onStop() {
    stopping = true;
    await handle?.stop({ flush: true });
    await saveLosses?.();
  },
});
