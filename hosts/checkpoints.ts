// Checkpoints in the run's JetStream Object Store (bucket troupe_<run>_checkpoints): the
// models layer's CheckpointStore over openObjects. Objects are named
//   <stage>/<kind>-<step 8 digits>/{model.safetensors, optim.safetensors, manifest.json}
// and the manifest is put last, so list() never shows a half-written checkpoint. Reads are
// verified twice: by the Object Store's own SHA-256 while reading, then against the manifest.
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type Checkpoint, type CheckpointKind, type CheckpointMeta, type CheckpointRef, type CheckpointStore, type CheckpointTensors,
  type GoodCheckpoint, type RejectedCheckpoint,
  CheckpointCorruptError, CheckpointNotFoundError, MANIFEST_FILE,
  checkRef, decodeCheckpoint, encodeCheckpoint, findLatestGood, parseManifest, parseRefName, refName,
} from "../models/mod.js";
import { isNotFoundError, isObjectIntegrityError } from "./errors.js";
import { type Objects, openObjects } from "./nats/objects.js";

export interface ObjectCheckpointStoreOptions {
  /** Bucket purpose (default "checkpoints" → troupe_<run>_checkpoints). */
  readonly bucket?: string;
  readonly storage?: "file" | "memory";
  readonly onReject?: (r: RejectedCheckpoint) => void;
}

class ObjectCheckpointStore implements CheckpointStore {
  private readonly buckets = new Map<string, Promise<Objects>>();
  private queue: Promise<unknown> = Promise.resolve();
  readonly location: string;

  constructor(private readonly nc: NatsConnection, private readonly options: ObjectCheckpointStoreOptions) {
    this.location = `nats object store troupe_<run>_${options.bucket ?? "checkpoints"}`;
  }

  private objects(run: string): Promise<Objects> {
    let p = this.buckets.get(run);
    if (!p) {
      p = openObjects(this.nc, { run, bucket: this.options.bucket ?? "checkpoints", ...(this.options.storage ? { storage: this.options.storage } : {}) });
      p.catch(() => this.buckets.delete(run));
      this.buckets.set(run, p);
    }
    return p;
  }

  private prefix(ref: CheckpointRef): string {
    return `${ref.stage}/${refName(ref)}`;
  }

  save(meta: CheckpointMeta, tensors: CheckpointTensors): Promise<CheckpointRef> {
    const enc = encodeCheckpoint(meta, tensors); // synchronous copy + hash
    // one write at a time, in order: a later checkpoint never lands before an earlier one
    const p = this.queue.then(async () => {
      const objects = await this.objects(enc.ref.run);
      const prefix = this.prefix(enc.ref);
      await objects.delete(`${prefix}/${MANIFEST_FILE}`).catch(() => undefined); // an overwrite is incomplete until its manifest
      for (const [name, bytes] of enc.files) await objects.put(`${prefix}/${name}`, bytes);
      await objects.put(`${prefix}/${MANIFEST_FILE}`, enc.manifestBytes);
      return enc.ref;
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  async load(ref: CheckpointRef): Promise<Checkpoint> {
    const r = checkRef(ref);
    const objects = await this.objects(r.run);
    const prefix = this.prefix(r);
    const where = `${objects.bucket}/${prefix}`;
    const get = async (name: string, missing: () => Error): Promise<Uint8Array> => {
      try {
        return await objects.get(`${prefix}/${name}`);
      } catch (err) {
        if (isNotFoundError(err)) throw missing();
        if (isObjectIntegrityError(err)) throw new CheckpointCorruptError({ checkpoint: where, file: name }, err.message, { cause: err });
        throw err;
      }
    };
    const manifest = parseManifest(await get(MANIFEST_FILE, () => new CheckpointNotFoundError(`no checkpoint at ${where} (no ${MANIFEST_FILE})`)), where);
    const files = new Map<string, Uint8Array>();
    for (const name of Object.keys(manifest.files)) {
      files.set(name, await get(name, () => new CheckpointCorruptError({ checkpoint: where, file: name }, "is missing")));
    }
    return decodeCheckpoint(manifest, files, where);
  }

  async list(run: string, stage: string, kind: CheckpointKind = "step"): Promise<CheckpointRef[]> {
    const objects = await this.objects(run);
    const refs: CheckpointRef[] = [];
    for (const o of await objects.list()) {
      const parts = o.name.split("/");
      if (parts.length !== 3 || parts[0] !== stage || parts[2] !== MANIFEST_FILE) continue;
      const ref = parseRefName(run, stage, parts[1]!);
      if (ref && ref.kind === kind) refs.push(ref);
    }
    return refs.sort((a, b) => a.step - b.step);
  }

  latestGood(run: string, stage: string, kind: CheckpointKind = "step"): Promise<GoodCheckpoint | null> {
    return findLatestGood(this, run, stage, kind, this.options.onReject);
  }

  async remove(ref: CheckpointRef): Promise<void> {
    const objects = await this.objects(ref.run);
    const prefix = `${this.prefix(checkRef(ref))}/`;
    const names = (await objects.list()).map((o) => o.name).filter((n) => n.startsWith(prefix));
    // manifest first: from then on the checkpoint is not listed
    names.sort((a, b) => Number(b.endsWith(MANIFEST_FILE)) - Number(a.endsWith(MANIFEST_FILE)));
    for (const n of names) await objects.delete(n);
  }
}

/** Checkpoints in the JetStream Object Store of each run (one bucket per run). */
export function objectCheckpointStore(nc: NatsConnection, options: ObjectCheckpointStoreOptions = {}): CheckpointStore {
  return new ObjectCheckpointStore(nc, options);
}
