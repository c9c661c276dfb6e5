// A model source as the worker's options and the Load call name it, resolved to a path the
// cores can load and the digest of its weights — checked against the digest the caller asked
// for, so a worker never serves weights other than the ones it was told to.
import { PoolReason } from "../../../protocol/mod.js";
import { PoolRejection } from "../../errors.js";
import type { ObjectStoreSource } from "../proto.js";
import { type ResolvedModel, resolveObjectStore, resolvePath } from "./source.js";

export type ModelSource = {
  /** The id requests use (default: the first 16 hex digits of the digest). */
  readonly id?: string | undefined;
  /** Expected SHA-256 of model.safetensors. */
  readonly digest?: string | undefined;
} & ({ readonly path: string; readonly objectStore?: undefined } | { readonly objectStore: ObjectStoreSource; readonly path?: undefined });

export async function loadModel(src: ModelSource): Promise<ResolvedModel> {
  const resolved = src.path !== undefined ? await resolvePath(src.path) : await resolveObjectStore(src.objectStore);
  if (src.digest && src.digest.toLowerCase() !== resolved.digest) {
    resolved.cleanup();
    throw new PoolRejection(PoolReason.digestMismatch, `the weights have SHA-256 ${resolved.digest.slice(0, 16)}…, not the ${src.digest.slice(0, 16)}… asked for`, { expected: src.digest, got: resolved.digest });
  }
  return resolved;
}
