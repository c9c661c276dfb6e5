// Checkpoints in a local directory:
//   <root>/<run>/checkpoints/<stage>/<kind>-<step 8 digits>/{model.safetensors, optim.safetensors, manifest.json}
// A checkpoint is written into a temp directory beside it (".tmp-…", ignored by list) and
// renamed into place when complete, so a crash at any moment leaves either the old state or
// the new one. Leftover temp directories of dead writers are removed by the next writer. The
// file writes run on a writer thread (writer.ts), one checkpoint at a time, in order.
import { access, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointCorruptError, CheckpointNotFoundError } from "../errors.js";
import {
  type Checkpoint, type CheckpointKind, type CheckpointMeta, type CheckpointRef, type CheckpointTensors,
  MANIFEST_FILE, checkRef, decodeCheckpoint, encodeCheckpoint, parseManifest, parseRefName, refName,
} from "./format.js";
import { type CheckpointStore, type GoodCheckpoint, findLatestGood } from "./store.js";
import { type WriteJob, writeOffThread } from "./writer.js";

export interface LocalStoreOptions {
  /** Called for each checkpoint latestGood() refuses (e.g. to log it). */
  readonly onReject?: (r: { ref: CheckpointRef; code: string; error: string }) => void;
}

let tmpCounter = 0;

class LocalStoreImpl implements CheckpointStore {
  constructor(readonly location: string, private readonly options: LocalStoreOptions) {}

  private stageDir(run: string, stage: string): string {
    return join(this.location, run, "checkpoints", stage);
  }

  /** The directory of one checkpoint. */
  dirOf(ref: CheckpointRef): string {
    return join(this.stageDir(ref.run, ref.stage), refName(ref));
  }

  private queue: Promise<unknown> = Promise.resolve();
  private readonly swept = new Set<string>();

  save(meta: CheckpointMeta, tensors: CheckpointTensors): Promise<CheckpointRef> {
    const enc = encodeCheckpoint(meta, tensors); // synchronous: the caller may go on training
    const parent = this.stageDir(enc.ref.run, enc.ref.stage);
    const job: Omit<WriteJob, "id"> = {
      parent,
      tmp: join(parent, `.tmp-${refName(enc.ref)}-${process.pid}-${++tmpCounter}`),
      final: this.dirOf(enc.ref),
      sweep: !this.swept.has(parent),
      files: [...enc.files, [MANIFEST_FILE, enc.manifestBytes]],
    };
    this.swept.add(parent);
    // one write at a time, in order (a later checkpoint never lands before an earlier one),
    // on the writer thread: the training loop is not held up by the file system
    const p = this.queue.then(() => writeOffThread(job)).then(() => enc.ref);
    this.queue = p.catch(() => undefined);
    return p;
  }

  async load(ref: CheckpointRef): Promise<Checkpoint> {
    const r = checkRef(ref);
    const dir = this.dirOf(r);
    let manifestBytes: Uint8Array;
    try {
      manifestBytes = await readFile(join(dir, MANIFEST_FILE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CheckpointNotFoundError(`no checkpoint at ${dir} (no ${MANIFEST_FILE})`, { cause: err });
      throw err;
    }
    const manifest = parseManifest(manifestBytes, dir);
    const files = new Map<string, Uint8Array>();
    for (const name of Object.keys(manifest.files)) {
      try {
        files.set(name, await readFile(join(dir, name)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        throw new CheckpointCorruptError({ checkpoint: dir, file: name }, "is missing", { cause: err });
      }
    }
    return decodeCheckpoint(manifest, files, dir);
  }

  async list(run: string, stage: string, kind: CheckpointKind = "step"): Promise<CheckpointRef[]> {
    const dir = this.stageDir(run, stage);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const refs: CheckpointRef[] = [];
    for (const name of names) {
      const ref = parseRefName(run, stage, name);
      if (!ref || ref.kind !== kind) continue;
      try {
        await access(join(dir, name, MANIFEST_FILE));
        refs.push(ref);
      } catch {
        // no manifest: incomplete, not listed
      }
    }
    return refs.sort((a, b) => a.step - b.step);
  }

  latestGood(run: string, stage: string, kind: CheckpointKind = "step"): Promise<GoodCheckpoint | null> {
    return findLatestGood(this, run, stage, kind, this.options.onReject);
  }

  async remove(ref: CheckpointRef): Promise<void> {
    await rm(this.dirOf(checkRef(ref)), { recursive: true, force: true });
  }
}

export interface LocalCheckpointStore extends CheckpointStore {
  /** The directory of one checkpoint. */
  dirOf(ref: CheckpointRef): string;
}

/** A store under `root` (e.g. "runs"): <root>/<run>/checkpoints/<stage>/<kind>-<step>/. */
export function localCheckpointStore(root: string, options: LocalStoreOptions = {}): LocalCheckpointStore {
  return new LocalStoreImpl(root, options);
}
