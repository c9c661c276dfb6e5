// Where a worker's model comes from, and its digest (SHA-256 of model.safetensors):
//   - a path on the worker: a checkpoint directory (its manifest names the digest and the
//     models layer verifies the file against it), a stage or run directory (its newest good
//     checkpoint), or a bare model.safetensors written by troupe (hashed here);
//   - a troupe checkpoint in a JetStream Object Store (bucket + prefix): manifest.json and
//     model.safetensors are fetched (the Object Store checks its own digests while reading)
//     into a private temporary directory, which the models layer then loads and verifies.
// The cores load the result with the models layer's loadModelFile, so every architecture the
// models layer can load is served.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Objm } from "@nats-io/obj";
import { MANIFEST_FILE, MODEL_FILE, findCheckpointDir, parseManifest } from "../../../models/mod.js";
import { PoolReason } from "../../../protocol/mod.js";
import { PoolRejection } from "../../errors.js";
import { connectNats } from "../../nats/connect.js";
import { installNativeSha256 } from "../../nats/objects.js";
import type { ObjectStoreSource } from "../proto.js";

export interface ResolvedModel {
  /** What the cores pass to loadModelFile. */
  readonly path: string;
  readonly digest: string;
  /** Removes anything fetched for it. */
  cleanup(): void;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function manifestDigest(dir: string): Promise<string> {
  const manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE)), dir);
  const entry = manifest.files[MODEL_FILE];
  if (!entry) throw new Error(`${dir}/${MANIFEST_FILE} lists no ${MODEL_FILE}`);
  return entry.sha256;
}

export async function resolvePath(path: string): Promise<ResolvedModel> {
  const none = () => undefined;
  try {
    const s = await stat(path);
    if (s.isFile()) return { path, digest: sha256(await readFile(path)), cleanup: none };
    const found = await findCheckpointDir(path);
    return { path: found.source, digest: await manifestDigest(found.source), cleanup: none };
  } catch (err) {
    throw new PoolRejection(PoolReason.loadFailed, `cannot load a model from ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
}

export async function resolveObjectStore(src: ObjectStoreSource): Promise<ResolvedModel> {
  if (!src.natsUrl || !src.bucket || !src.prefix) {
    throw new PoolRejection(PoolReason.badSource, "an Object Store source needs nats_url, bucket and prefix", { nats_url: src.natsUrl, bucket: src.bucket, prefix: src.prefix });
  }
  installNativeSha256();
  const dir = mkdtempSync(join(tmpdir(), "troupe-pool-model-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  let nc;
  try {
    nc = await connectNats(src.natsUrl, { name: "troupe-pool-worker-load" });
    const store = await new Objm(nc).open(src.bucket);
    for (const name of [MANIFEST_FILE, MODEL_FILE]) {
      const bytes = await store.getBlob(`${src.prefix}/${name}`);
      if (!bytes) throw new Error(`object ${src.bucket}/${src.prefix}/${name} does not exist`);
      writeFileSync(join(dir, name), bytes);
    }
    return { path: dir, digest: await manifestDigest(dir), cleanup };
  } catch (err) {
    cleanup();
    throw new PoolRejection(PoolReason.loadFailed, `cannot fetch ${src.bucket}/${src.prefix} from ${src.natsUrl}: ${(err as Error).message}`, { bucket: src.bucket, prefix: src.prefix }, { cause: err });
  } finally {
    await nc?.close().catch(() => undefined);
  }
}
