// Checkpoints: the format (safetensors + a JSON manifest with magic/version and SHA-256 of
// each file), the store interface, and the local-directory store.
export {
  CHECKPOINT_KINDS, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, MANIFEST_FILE, MODEL_FILE, OPTIM_FILE,
  type Checkpoint, type CheckpointKind, type CheckpointMeta, type CheckpointRef, type CheckpointTensors,
  type EncodedCheckpoint, type FileEntry, type JsonValue, type Manifest,
  checkRef, decodeCheckpoint, encodeCheckpoint, parseManifest, parseRefName, refName, sha256Hex, verifyFile,
} from "./format.js";
export { type CheckpointStore, type GoodCheckpoint, type RejectedCheckpoint, findLatestGood, pruneCheckpoints } from "./store.js";
export { type LocalCheckpointStore, type LocalStoreOptions, localCheckpointStore } from "./local.js";
export { mirroredCheckpointStore } from "./mirror.js";
