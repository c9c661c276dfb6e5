// Where checkpoints live. Two implementations: a local directory (local.ts) and the run's
// JetStream Object Store (hosts/, which may import models; models never imports NATS).
//
// Contract:
// - save() encodes (copies and hashes) the tensors synchronously before it returns its
//   promise, so the caller may change them right away; the returned promise resolves when the
//   checkpoint is durable and complete (manifest written last). It never leaves a checkpoint
//   that list() shows half-written.
// - load() verifies every file against the manifest (size, SHA-256) and throws a
//   CheckpointCorruptError / CheckpointFormatError naming the file and what is wrong.
// - list() is ascending by step and only shows checkpoints whose manifest exists.
import { isBadCheckpointError } from "../errors.js";
import type { Checkpoint, CheckpointKind, CheckpointMeta, CheckpointRef, CheckpointTensors } from "./format.js";

export interface CheckpointStore {
  /** Where the checkpoints go (a directory or a bucket), for messages. */
  readonly location: string;
  save(meta: CheckpointMeta, tensors: CheckpointTensors): Promise<CheckpointRef>;
  load(ref: CheckpointRef): Promise<Checkpoint>;
  list(run: string, stage: string, kind?: CheckpointKind): Promise<CheckpointRef[]>;
  /** The newest checkpoint that loads and verifies; the ones refused on the way are reported. */
  latestGood(run: string, stage: string, kind?: CheckpointKind): Promise<GoodCheckpoint | null>;
  remove(ref: CheckpointRef): Promise<void>;
}

export interface RejectedCheckpoint {
  readonly ref: CheckpointRef;
  readonly code: string;
  readonly error: string;
}

export interface GoodCheckpoint {
  readonly checkpoint: Checkpoint;
  /** Newer checkpoints that were refused (corrupt, wrong version), newest first. */
  readonly rejected: RejectedCheckpoint[];
}

/** latestGood() for any store: newest first, skipping bad checkpoints (other errors propagate). */
export async function findLatestGood(
  store: Pick<CheckpointStore, "list" | "load">,
  run: string,
  stage: string,
  kind: CheckpointKind = "step",
  onReject?: (r: RejectedCheckpoint) => void,
): Promise<GoodCheckpoint | null> {
  const refs = await store.list(run, stage, kind);
  const rejected: RejectedCheckpoint[] = [];
  for (const ref of [...refs].reverse()) {
    try {
      return { checkpoint: await store.load(ref), rejected };
    } catch (err) {
      if (!isBadCheckpointError(err)) throw err;
      const r = { ref, code: err.code, error: err.message };
      rejected.push(r);
      onReject?.(r);
    }
  }
  return null;
}

/** Keeps the newest `keep` checkpoints of a kind and removes the older ones. */
export async function pruneCheckpoints(store: CheckpointStore, run: string, stage: string, keep: number, kind: CheckpointKind = "step"): Promise<CheckpointRef[]> {
  const refs = await store.list(run, stage, kind);
  const old = refs.slice(0, Math.max(0, refs.length - keep));
  for (const ref of old) await store.remove(ref);
  return old;
}
