// Running the director: start a run or resume one from its stored snapshot, persist every
// transition, and report the end. The actor system's owner (the NATS runtime's supervisor)
// calls these; a director that loses a compare-and-set save stops, and its supervisor
// restarts it with resumeDirector, which picks up at the stored state.
//
// Resuming mid-work: the stored snapshot holds the in-flight invocation (e.g. `trainStage`
// with its input). xstate restarts it on resume, so StageWork.train is called again with the
// same stage and attempt — the trainer resumes from its own last checkpoint. The attempt is
// not counted again; its record's `restarts` goes up by one and the context notes the resume.
import { createActor, type Actor, type InspectionEvent, type Snapshot } from "xstate";
import type { DirectorClock } from "./clock.js";
import { DIRECTOR_CHART_VERSION, type DirectorContext, type DirectorInput } from "./context.js";
import { DirectorSnapshotError, DirectorStoppedError, SnapshotConflictError } from "./errors.js";
import { createPersister, type Persister } from "./persist.js";
import { checkPlan } from "./plan.js";
import { provideDirector, type DirectorDeps, type ProvidedDirectorMachine } from "./provide.js";
import type { PersistedDirectorSnapshot, SnapshotStore } from "./store.js";
import type { RunSummary } from "./summary.js";
import type { StageWork } from "./work.js";

export interface DirectorOptions {
  readonly runId: string;
  readonly store: SnapshotStore;
  readonly work: StageWork;
  readonly clock: DirectorClock;
  /** xstate inspection events (transitions, microsteps), e.g. for a logger or tests. */
  readonly inspect?: (event: InspectionEvent) => void;
}

export interface StartOptions extends DirectorOptions {
  readonly plan: DirectorInput["plan"];
  readonly available: DirectorInput["available"];
  readonly unavailableReasons?: DirectorInput["unavailableReasons"];
}

export interface DirectorHandle {
  readonly runId: string;
  readonly actor: Actor<ProvidedDirectorMachine>;
  /**
   * Resolves with the run summary once the chart is final and its last snapshot is stored;
   * resolves with an Error if persisting failed or the chart crashed. Never rejects.
   */
  readonly done: Promise<RunSummary | Error>;
  /** The current context (a copy-free view; do not mutate). */
  context(): DirectorContext;
  /** Resolves when every snapshot so far is stored. */
  settled(): Promise<void>;
  /**
   * True once the chart was stopped from outside — stop(), or a failed save — rather than by
   * its own decisions. Work aborted because of it is to be resumed by the next director, never
   * cancelled (guards #16 item 2: a lost save used to cancel the job the successor needed).
   * Set before the chart's in-flight work sees its abort.
   */
  readonly halted: boolean;
  /**
   * Stops the director. `flush: true` (default) stores pending snapshots first; `false`
   * drops them and stops at once, as a kill -9 would.
   */
  stop(options?: { flush?: boolean }): Promise<void>;
}

/** Starts a new run. Rejects with DirectorSnapshotError if the run already has a snapshot. */
export async function startDirector(opts: StartOptions): Promise<DirectorHandle> {
  checkPlan(opts.plan);
  if ((await opts.store.load(opts.runId)) !== null) {
    throw new DirectorSnapshotError(`run ${opts.runId} already has a stored snapshot; resume it instead of starting it`);
  }
  const input: DirectorInput = {
    runId: opts.runId,
    plan: opts.plan,
    available: opts.available,
    unavailableReasons: opts.unavailableReasons ?? {},
    startedAt: opts.clock.now(),
  };
  return run(opts, 0, (deps) =>
    createActor(provideDirector(deps), {
      input,
      clock: opts.clock,
      id: `director:${opts.runId}`,
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
    }),
  );
}

/** Resumes a run from its stored snapshot. Rejects with DirectorSnapshotError if it has none. */
export async function resumeDirector(opts: DirectorOptions): Promise<DirectorHandle> {
  const stored = await opts.store.load(opts.runId);
  if (stored === null) throw new DirectorSnapshotError(`run ${opts.runId} has no stored snapshot to resume`);
  checkResumable(opts.runId, stored.snapshot);
  const ctx = stored.snapshot.context;
  return run(opts, stored.revision, (deps) =>
    createActor(provideDirector(deps), {
      snapshot: stored.snapshot as unknown as Snapshot<unknown>,
      // Ignored when a snapshot is given; xstate's types want it.
      input: { runId: ctx.runId, plan: ctx.plan, available: ctx.available, startedAt: ctx.startedAt },
      clock: opts.clock,
      id: `director:${opts.runId}`,
      ...(opts.inspect ? { inspect: opts.inspect } : {}),
    }),
  );
}

function checkResumable(runId: string, snap: PersistedDirectorSnapshot): void {
  const version = snap?.context?.version;
  if (version !== DIRECTOR_CHART_VERSION) {
    throw new DirectorSnapshotError(
      `run ${runId}: stored snapshot is from director chart version ${String(version)}, this director is version ` +
        `${DIRECTOR_CHART_VERSION}; finish the run with the troupe version that started it, or start a new run`,
    );
  }
  if (snap.context.runId !== runId) {
    throw new DirectorSnapshotError(`run ${runId}: stored snapshot belongs to run ${snap.context.runId}`);
  }
}

function run(
  opts: DirectorOptions,
  revision: number,
  create: (deps: DirectorDeps) => Actor<ProvidedDirectorMachine>,
): DirectorHandle {
  const resumed = revision > 0;
  let finish!: (v: RunSummary | Error) => void;
  const done = new Promise<RunSummary | Error>((resolve) => (finish = resolve));
  let finished = false;
  let halted = false;
  const end = (v: RunSummary | Error) => {
    if (finished) return;
    finished = true;
    finish(v);
  };

  const persister: Persister = createPersister({
    store: opts.store,
    runId: opts.runId,
    revision,
    onFailure: (err) => {
      // A lost compare-and-set means another director owns the run; a store that is down means
      // progress would be lost. Either way stop (aborting in-flight work) and let the owner
      // restart us with resumeDirector from the last stored snapshot. The aborted work is the
      // successor's to resume: `halted` tells it apart from the chart's own aborts.
      halted = true;
      actor.stop();
      end(err instanceof SnapshotConflictError ? err : new DirectorSnapshotError(`saving the snapshot failed: ${err.message}`, { cause: err }));
    },
  });

  // Work starts only once the state that asked for it is stored (see DirectorDeps.ready).
  const actor = create({
    work: opts.work,
    clock: opts.clock,
    ready: () => persister.settled(),
  });

  actor.subscribe({
    next: (snapshot) => {
      persister.push(actor.getPersistedSnapshot() as unknown as PersistedDirectorSnapshot);
      if (snapshot.status === "done") {
        void persister.settled().then(() => end(persister.failure ?? (snapshot.output as RunSummary)));
      }
    },
    error: (err) => end(err instanceof Error ? err : new Error(String(err))),
  });

  actor.start();
  if (resumed && actor.getSnapshot().status === "active") {
    actor.send({ type: "director.resumed", at: opts.clock.now() });
  } else if (resumed && actor.getSnapshot().status === "done") {
    end(actor.getSnapshot().output as RunSummary);
  }

  return {
    runId: opts.runId,
    actor,
    done,
    context: () => actor.getSnapshot().context,
    settled: () => persister.settled(),
    get halted() {
      return halted;
    },
    async stop(options) {
      halted = true;
      if (options?.flush === false) persister.halt();
      else await persister.settled();
      persister.halt();
      actor.stop();
      end(new DirectorStoppedError(opts.runId));
    },
  };
}
