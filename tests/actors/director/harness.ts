// Starts a director on a SimulatedClock, an in-memory store and a FakeWork, and waits for
// states by subscription (xstate waitFor), never by sleeping.
import { SimulatedClock, waitFor, type InspectionEvent } from "xstate";
import {
  createMemorySnapshotStore,
  resumeDirector,
  startDirector,
  stateName,
  type CurriculumPlan,
  type DirectorHandle,
  type MemorySnapshotStore,
  type StageId,
} from "../../../actors/director/mod.js";
import { createFakeWork, type FakeWork } from "./fake-work.js";

let runs = 0;

/** Every transition any director in this process took: "source -event-> target,…". */
export const taken = new Set<string>();

const pathOf = (id: string) => id.split(".").slice(1).join(".");

function inspect(ev: InspectionEvent): void {
  if (ev.type !== "@xstate.microstep") return;
  for (const t of ev._transitions) {
    const targets = (t.target ?? []).map((n) => pathOf(n.id)).join(",");
    if (targets) taken.add(`${pathOf(t.source.id)} -${t.eventType}-> ${targets}`);
  }
}

export interface Launched {
  runId: string;
  clock: SimulatedClock;
  work: FakeWork;
  store: MemorySnapshotStore;
  h: DirectorHandle;
}

export async function launch(
  plan: CurriculumPlan,
  opts: {
    available?: StageId[];
    unavailableReasons?: Partial<Record<StageId, string>>;
    work?: FakeWork;
    clock?: SimulatedClock;
  } = {},
): Promise<Launched> {
  const runId = `run-${process.pid}-${++runs}`;
  const clock = opts.clock ?? new SimulatedClock();
  const work = opts.work ?? createFakeWork();
  const store = createMemorySnapshotStore();
  const h = await startDirector({
    runId,
    store,
    work,
    clock,
    plan,
    available: opts.available ?? [0, 1, 2, 3, 4, 5, 6],
    unavailableReasons: opts.unavailableReasons ?? {},
    inspect,
  });
  return { runId, clock, work, store, h };
}

export async function relaunch(l: Launched, work: FakeWork = l.work): Promise<DirectorHandle> {
  return resumeDirector({ runId: l.runId, store: l.store, work, clock: l.clock, inspect });
}

export function state(h: DirectorHandle): string {
  return stateName(h.actor.getSnapshot().value);
}

/** Resolves once the director is in `path` (dotted, e.g. "stage1.training"); fails after 2 s. */
export async function reach(h: DirectorHandle, path: string): Promise<void> {
  await waitFor(h.actor, (s) => stateName(s.value) === path, { timeout: 2000 });
}

/** Lets promise callbacks run (the fake work resolves in microtasks). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Distinct consecutive state names of the stored snapshots. */
export function storedStates(store: MemorySnapshotStore, runId: string): string[] {
  const out: string[] = [];
  for (const { snapshot } of store.history(runId)) {
    const s = stateName(snapshot.value);
    if (out[out.length - 1] !== s) out.push(s);
  }
  return out;
}
