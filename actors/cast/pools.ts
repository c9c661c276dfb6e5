// Teacher and evaluator on an accelerator pool (scenario `cast.<role>.pool`). The owner starts
// local workers when the scenario asks for a number of them, and gives the actor the workers'
// addresses in its config; the actor drives them with the pool scheduler (hosts/pools), has
// every worker load the checkpoint it is asked about — by the digest in the checkpoint's
// manifest, from the run's Object Store — and keeps its pool's metrics in the run's KV
// (pool-<role>), from where the run report takes them.
import { type NatsConnection, openObjects } from "../../hosts/mod.js";
// types only: the gRPC client loads in the processes that use a pool, not in every actor
import type { Bucket, Pool, PoolMetrics, PoolModel } from "../../hosts/pools/mod.js";
import { MANIFEST_FILE, MODEL_FILE, parseManifest, refName } from "../../models/mod.js";
import { type Infer, t } from "../../protocol/mod.js";
import type { Logger } from "../../hosts/mod.js";
import type { StoredCheckpoint } from "./messages.js";
import { refKey } from "./models.js";
import { RUN_KEYS, type RunRecord, openRunRecord } from "./records.js";

/** What a pooled teacher or evaluator gets in its actor config. */
export const PoolConfigSchema = t.object({
  workers: t.array(t.string({ maxLength: 256 }), { maxLength: 256 }),
  buckets: t.array(t.object({ batch: t.int({ min: 1 }), seqLen: t.int({ min: 1 }) }), { maxLength: 256 }),
  policy: t.oneOf(["bucketed", "naive"]),
  deadlineMs: t.int({ min: 1 }),
  /** The NATS server workers load checkpoints from (the run's). */
  natsUrl: t.string({ maxLength: 1024 }),
  /** How the workers were made, for the report: "2 local workers × 2 cores" or "listed". */
  origin: t.string({ maxLength: 256 }),
});
export type PoolRoleConfig = Infer<typeof PoolConfigSchema>;

/** What the owner keeps per pooled role while a run lasts. */
export interface PoolRoleSpec {
  /** Listed worker addresses, or null when the owner starts `spawn` local ones. */
  readonly workers: readonly string[] | null;
  readonly spawn: number | null;
  readonly buckets: readonly Bucket[];
  readonly cores: number;
  readonly compileMs: number;
  readonly deadlineMs: number;
  readonly policy: "bucketed" | "naive";
}

export async function openRolePool(cfg: PoolRoleConfig, log: Logger): Promise<Pool> {
  const { createPool, sortBuckets } = await import("../../hosts/pools/mod.js");
  return createPool({ workers: cfg.workers, buckets: sortBuckets(cfg.buckets), policy: cfg.policy, deadlineMs: cfg.deadlineMs, log });
}

/** A stored checkpoint as the pool model workers load: id, digest from its manifest, Object Store source. */
export function poolModelLoader(nc: NatsConnection, natsUrl: string): (ref: StoredCheckpoint) => Promise<PoolModel> {
  const known = new Map<string, Promise<PoolModel>>();
  return (ref) => {
    const key = refKey(ref);
    let p = known.get(key);
    if (!p) {
      p = (async () => {
        const objects = await openObjects(nc, { run: ref.run, bucket: ref.bucket });
        const prefix = `${ref.stage}/${refName({ run: ref.run, stage: ref.stage, step: ref.step, kind: ref.kind })}`;
        const manifest = parseManifest(await objects.get(`${prefix}/${MANIFEST_FILE}`), `${objects.bucket}/${prefix}`);
        const digest = manifest.files[MODEL_FILE]?.sha256;
        if (!digest) throw new Error(`${objects.bucket}/${prefix}/${MANIFEST_FILE} lists no ${MODEL_FILE}`);
        return { id: key, digest, source: { objectStore: { natsUrl, bucket: objects.bucket, prefix } } };
      })();
      p.catch(() => known.delete(key));
      known.set(key, p);
    }
    return p;
  };
}

/** A pooled role's pool, its checkpoint-to-model lookup, its metrics in KV, and how to close it. */
export interface RolePool {
  readonly pool: Pool;
  /** Has every worker serve this checkpoint (a Load by digest where needed); resolves when one does. */
  use(ref: StoredCheckpoint): Promise<void>;
  /** Say that work was done: the metrics in KV are refreshed (at most once a second). */
  touch(): void;
  close(): Promise<void>;
}

export async function startRolePool(o: { nc: NatsConnection; run: string; address: string; role: "teacher" | "evaluator"; cfg: PoolRoleConfig; log: Logger }): Promise<RolePool> {
  const pool = await openRolePool(o.cfg, o.log);
  const modelOf = poolModelLoader(o.nc, o.cfg.natsUrl);
  const metrics = poolMetricsPublisher(await openRunRecord(o.nc, o.run, o.address), o.role, o.cfg, pool, o.log);
  o.log.info({ workers: o.cfg.workers, buckets: o.cfg.buckets, origin: o.cfg.origin }, `the ${o.role} runs on a pool`);
  return {
    pool,
    use: async (ref) => pool.useModel(await modelOf(ref)),
    touch: () => metrics.touch(),
    async close() {
      await metrics.flush();
      await pool.close();
    },
  };
}

/** What the run's KV keeps about a role's pool. */
export interface PoolRecord {
  readonly role: string;
  readonly origin: string;
  readonly buckets: readonly Bucket[];
  readonly metrics: PoolMetrics;
}

/** Writes the pool's metrics to KV at most once a second (and once more on flush). */
export function poolMetricsPublisher(record: RunRecord, role: "teacher" | "evaluator", cfg: PoolRoleConfig, pool: Pool, log: Logger) {
  const key = role === "teacher" ? RUN_KEYS.poolTeacher : RUN_KEYS.poolEvaluator;
  let last = 0;
  let pending: NodeJS.Timeout | null = null;
  const write = () => {
    pending = null;
    last = Date.now();
    const value: PoolRecord = { role, origin: cfg.origin, buckets: cfg.buckets, metrics: pool.metrics() };
    return record.put(key, value).catch((err: Error) => log.warn({ err: err.message }, "could not store the pool metrics"));
  };
  return {
    touch() {
      if (pending) return;
      pending = setTimeout(write, Math.max(0, 1000 - (Date.now() - last)));
    },
    async flush() {
      if (pending) clearTimeout(pending);
      await write();
    },
  };
}
