// Checkpoints in a local directory:
//   <root>/<run>/checkpoints/<stage>/<kind>-<step 8 digits>/{model.safetensors, optim.safetensors, manifest.json}
// A checkpoint is written into a temp directory beside it (".tmp-…", ignored by list) and
// renamed into place when complete, so a crash at any moment leaves either the old state or
// the new one. Leftover temp directories of dead writers are removed by the next save.
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointCorruptError, CheckpointNotFoundError } from "../errors.js";
import {
  type Checkpoint, type CheckpointKind, type CheckpointMeta, type CheckpointRef, type CheckpointTensors,
  MANIFEST_FILE, checkRef, decodeCheckpoint, encodeCheckpoint, parseManifest, parseRefName, refName,
} from "./format.js";
import { type CheckpointStore, type GoodCheckpoint, findLatestGood } from "./store.js";

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

  save(meta: CheckpointMeta, tensors: CheckpointTensors): Promise<CheckpointRef> {
    const enc = encodeCheckpoint(meta, tensors); // synchronous: the caller may go on training
    return this.write(enc.ref, enc.files, enc.manifestBytes);
  }

  private async write(ref: CheckpointRef, files: [string, Uint8Array][], manifest: Uint8Array): Promise<CheckpointRef> {
    const parent = this.stageDir(ref.run, ref.stage);
    await mkdir(parent, { recursive: true });
    await this.sweep(parent);
    const tmp = join(parent, `.tmp-${refName(ref)}-${process.pid}-${++tmpCounter}`);
    await mkdir(tmp);
    try {
      for (const [name, bytes] of files) await writeFile(join(tmp, name), bytes);
      await writeFile(join(tmp, MANIFEST_FILE), manifest);
      const final = this.dirOf(ref);
      await rm(final, { recursive: true, force: true });
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    return ref;
  }

  /** Removes temp directories left by writers that no longer run. */
  private async sweep(parent: string): Promise<void> {
    for (const name of await readdir(parent)) {
      const m = /^\.tmp-.*-(\d+)-\d+$/.exec(name);
      if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await rm(join(parent, name), { recursive: true, force: true });
    }
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
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
