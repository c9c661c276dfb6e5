// A fleet of pool worker processes on this machine for `bench pool` and `chaos pool-failover`:
// the bench GPT (bench train's: vocab 256, block 128, 128 channels, 4 heads, 4 layers; seeded
// weights — throughput does not depend on what the weights learned) as a checkpoint in a
// temporary directory, and `workers` processes with `cores` cores each, compiled for the
// buckets, each on an ephemeral loopback port.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalPool, type Bucket, startLocalPool } from "../../hosts/pools/mod.js";
import { createGpt, localCheckpointStore, refName, specOf } from "../../models/mod.js";

export const BENCH_GPT = { vocabSize: 256, blockSize: 128, nEmbd: 128, nHead: 4, nLayer: 4 } as const;

/** batch 1, 4, 8 at seq_len 16, 32, 64, 128 */
export const BENCH_BUCKETS: readonly Bucket[] = [1, 4, 8].flatMap((batch) => [16, 32, 64, 128].map((seqLen) => ({ batch, seqLen })));

export interface Fleet {
  readonly addresses: readonly string[];
  readonly local: LocalPool;
  readonly checkpoint: string;
  stop(): Promise<void>;
}

export async function startFleet(o: { workers: number; cores: number; buckets?: readonly Bucket[]; drainMs?: number; seed?: number }): Promise<Fleet> {
  const root = mkdtempSync(join(tmpdir(), "troupe-pool-bench-"));
  try {
    const model = createGpt(BENCH_GPT, o.seed ?? 0);
    const ref = await localCheckpointStore(root).save({ run: "bench", stage: "pool", step: 0, config: { model: specOf(model) as never }, state: {} }, { model: model.namedParameters() });
    const checkpoint = join(root, "bench", "checkpoints", "pool", refName(ref));
    const local = await startLocalPool({
      count: o.workers,
      spec: { buckets: o.buckets ?? BENCH_BUCKETS, cores: o.cores, model: { path: checkpoint }, ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}) },
    });
    await local.ready();
    return {
      addresses: local.addresses,
      local,
      checkpoint,
      async stop() {
        await local.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
