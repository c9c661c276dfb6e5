// Where a run keeps its state in JetStream (one set of buckets per run, named
// troupe_<run>_<purpose>), and small typed accessors for the keys the cast shares.
//
//   troupe_<run>_director   <run id> → the director's persisted snapshot (snapshots.ts)
//   troupe_<run>_run        spec, summary, losses, base, baseline, pool-teacher, pool-evaluator, cast
//   troupe_<run>_jobs       <job id> → the trainer's job state (jobs.ts)
//   troupe_<run>_capture    stage-0 capture results per attempt and batch (work/baseline.ts)
//   troupe_<run>_evals      the evaluator's scores per checkpoint and lane (evaluator/)
//   troupe_<run>_agp        head stages: verdicts the next stage's weights depend on, the
//                           stage-6 rollback point, the weights the run ends with (work/lineage.ts)
//   troupe_<run>_leases     "director" → who runs the curriculum, with its epoch (hosts' lease)
//   objects troupe_<run>_checkpoints, troupe_<run>_hidden, troupe_shared_bases (cross-run cache)
import { type Lease, type NatsConnection, type RunState, openLease, openRunState } from "../../hosts/mod.js";
import { CastSpecError } from "./errors.js";
import { checkRunSpec, type RunSpec } from "./spec.js";

export const BUCKETS = {
  director: "director",
  run: "run",
  jobs: "jobs",
  capture: "capture",
  evals: "evals",
  agp: "agp",
  leases: "leases",
} as const;

/**
 * The director's lease: a starting director takes the next epoch, which fences out every
 * earlier one (its snapshot saves, its cancels). The trainer refuses cancels of stale epochs.
 */
export const DIRECTOR_LEASE = "director";

/** The run's director lease; `holder` is who acquires it (or who only reads it). */
export function openDirectorLease(nc: NatsConnection, runId: string, holder: string): Promise<Lease> {
  return openLease(nc, { run: runId, name: DIRECTOR_LEASE, holder, bucket: BUCKETS.leases });
}

export const RUN_KEYS = {
  spec: "spec",
  summary: "summary",
  losses: "losses",
  base: "base",
  baseline: "baseline",
  /** the teacher's and the evaluator's pool metrics, when they run on a pool (cast/pools.ts) */
  poolTeacher: "pool-teacher",
  poolEvaluator: "pool-evaluator",
  /** where the cast runs on hosts and what happened to them (placement/record.ts) */
  cast: "cast",
} as const;
export type RunKey = (typeof RUN_KEYS)[keyof typeof RUN_KEYS];

/** Object Store buckets: checkpoints of a run, captured hidden states, and the cross-run base cache. */
export const OBJECT_BUCKETS = { checkpoints: "checkpoints", hidden: "hidden", bases: "bases" } as const;
/** The pseudo-run whose buckets outlive runs (the base cache): troupe_shared_bases. */
export const SHARED_RUN = "shared";

export interface RunRecord {
  readonly runId: string;
  get<T>(key: RunKey): Promise<T | null>;
  put(key: RunKey, value: unknown): Promise<number>;
  /** The run's spec; CastSpecError if it is missing or of another format. */
  spec(): Promise<RunSpec>;
  readonly state: RunState<unknown>;
}

export async function openRunRecord(nc: NatsConnection, runId: string, from?: string): Promise<RunRecord> {
  const state = await openRunState<unknown>(nc, { run: runId, bucket: BUCKETS.run, ...(from ? { from } : {}) });
  return {
    runId,
    state,
    async get<T>(key: RunKey) {
      return ((await state.get(key))?.value as T | undefined) ?? null;
    },
    put: (key, value) => state.put(key, value),
    async spec() {
      const v = (await state.get(RUN_KEYS.spec))?.value;
      if (v === undefined) throw new CastSpecError(`run ${runId} has no spec in KV (${state.bucket}/${RUN_KEYS.spec}); was it started with troupe run?`);
      return checkRunSpec(v, runId);
    },
  };
}

/** Opens a bucket of the run with plain values (typed by the caller). */
export function openBucket<T>(nc: NatsConnection, runId: string, bucket: (typeof BUCKETS)[keyof typeof BUCKETS], from?: string): Promise<RunState<T>> {
  return openRunState<T>(nc, { run: runId, bucket, ...(from ? { from } : {}) });
}
