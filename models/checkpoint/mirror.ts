// One store that writes to several (e.g. the local directory and the run's Object Store):
// save() writes to all of them and succeeds when every write does; reads prefer the first
// store and fall back to the next when a checkpoint is missing or bad there.
import { isBadCheckpointError, isCheckpointNotFoundError } from "../errors.js";
import type { Checkpoint, CheckpointKind, CheckpointMeta, CheckpointRef, CheckpointTensors } from "./format.js";
import { type CheckpointStore, type GoodCheckpoint, type RejectedCheckpoint, findLatestGood } from "./store.js";

class MirroredStore implements CheckpointStore {
  readonly location: string;
  constructor(private readonly stores: readonly CheckpointStore[]) {
    this.location = stores.map((s) => s.location).join(" + ");
  }

  save(meta: CheckpointMeta, tensors: CheckpointTensors): Promise<CheckpointRef> {
    // each save encodes synchronously before returning, so all copies hold the same bytes
    const writes = this.stores.map((s) => s.save(meta, tensors));
    return Promise.all(writes).then((refs) => refs[0]!);
  }

  async load(ref: CheckpointRef): Promise<Checkpoint> {
    let first: unknown;
    for (const s of this.stores) {
      try {
        return await s.load(ref);
      } catch (err) {
        if (!isBadCheckpointError(err) && !isCheckpointNotFoundError(err)) throw err;
        first ??= err;
      }
    }
    throw first;
  }

  async list(run: string, stage: string, kind: CheckpointKind = "step"): Promise<CheckpointRef[]> {
    const all = new Map<number, CheckpointRef>();
    for (const s of this.stores) for (const r of await s.list(run, stage, kind)) all.set(r.step, r);
    return [...all.values()].sort((a, b) => a.step - b.step);
  }

  latestGood(run: string, stage: string, kind: CheckpointKind = "step", onReject?: (r: RejectedCheckpoint) => void): Promise<GoodCheckpoint | null> {
    return findLatestGood(this, run, stage, kind, onReject);
  }

  async remove(ref: CheckpointRef): Promise<void> {
    await Promise.all(this.stores.map((s) => s.remove(ref)));
  }
}

/** Writes every checkpoint to all `stores`; reads from the first that has a good copy. */
export function mirroredCheckpointStore(...stores: CheckpointStore[]): CheckpointStore {
  return new MirroredStore(stores);
}
