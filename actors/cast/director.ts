// The director as a process of the cast (role "director"). It reads the run's spec from KV,
// starts the curriculum statechart — or resumes it from the snapshot in KV when one exists,
// which is what happens when its supervisor restarts it after a crash or a kill -9 — and
// persists every transition through the KV SnapshotStore (compare-and-set on the revision).
// Its StageWork calls the trainer, teacher and evaluator over NATS. It records the loss
// curves from its own snapshots (troupe_<run>_run/losses, restored on resume), writes the
// run summary to KV when the run ends, and then stops (exit 0: not restarted). A director
// whose snapshot save fails (another director owns the run, or KV is gone) exits 1, and its
// supervisor restarts it to resume from what is stored.
import { createDirectorObserver, createLossRecorder, type LossRecorder, type LossRecorderState } from "../report/mod.js";
import {
  type DirectorHandle,
  isDirectorStoppedError,
  resumeDirector,
  startDirector,
  systemClock,
} from "../director/mod.js";
import { t } from "../../protocol/mod.js";
import { type ActorContext, defineActor, on } from "../runtime/mod.js";
import { openJobQueue, openJobStates } from "./jobs.js";
import { TrainProgress } from "./messages.js";
import { openRunRecord, RUN_KEYS, type RunRecord } from "./records.js";
import { createKvSnapshotStore } from "./snapshots.js";
import { createCastWork, createProgressRouter } from "./work/mod.js";

const LOSS_SAVE_MS = 2000;

const router = createProgressRouter();
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
  concurrency: 8,
  handlers: [
    on(TrainProgress, (body) => {
      router.deliver(body);
    }),
  ],
  async onStart(ctx) {
    const runId = ctx.run;
    const record = await openRunRecord(ctx.nc, runId, ctx.address);
    const spec = await record.spec();
    const store = await createKvSnapshotStore(ctx.nc, runId, { from: ctx.address });
    const work = createCastWork({
      runId,
      spec,
      nc: ctx.nc,
      peer: ctx,
      record,
      queue: await openJobQueue(ctx.nc, runId, ctx.address),
      jobs: await openJobStates(ctx.nc, runId, ctx.address),
      progress: router,
      log: ctx.log,
      shuttingDown: () => stopping,
    });
    const recorder = createLossRecorder({ restore: await record.get<LossRecorderState>(RUN_KEYS.losses) });
    const saver = lossSaver(record, recorder, ctx);
    saveLosses = saver.flush;
    const observer = createDirectorObserver();

    const stored = await store.load(runId);
    handle = stored
      ? await resumeDirector({ runId, store, work, clock: systemClock })
      : await startDirector({ runId, plan: spec.curriculum, available: spec.available, work, store, clock: systemClock });
    ctx.log.info({ resumed: stored !== null, revision: stored?.revision ?? 0 }, stored ? "director resumed from its snapshot" : "director started");
    const observe = (s: { value: unknown; context: unknown }) => {
      for (const e of observer.observe(s as never)) {
        recorder.handle(e);
        if (e.type === "progress") saver.touch();
        else void saver.flush();
      }
    };
    observe(handle.actor.getSnapshot());
    handle.actor.subscribe((s) => observe(s));

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
