// The checkpoint format: safetensors files plus a JSON manifest that names them.
//
//   model.safetensors   the model's parameters by name (base and adapter)
//   optim.safetensors   the optimizer's state tensors (exp_avg.*, exp_avg_sq.*, step.*), if any
//   tokenizer.json …    other files the model needs (its tokenizer), verified like the rest
//   manifest.json       { magic: "troupe-checkpoint", version: 1, run, stage, step, kind,
//                         createdAt, files: { name: { bytes, sha256 } }, config, state, metrics }
//
// `config` says how to rebuild the model (GPT config, adapter, tokenizer); `state` is what a
// bit-exact resume needs besides the tensors (data sampler position, RNG states, trainer
// counters). The manifest is written last, so a checkpoint without one is incomplete.
// Encoding is synchronous (a copy of every tensor plus a SHA-256), so the caller may keep
// training while the bytes are written.
import { createHash } from "node:crypto";
import { type Tensor, parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import { CheckpointCorruptError, CheckpointFormatError, ModelConfigError } from "../errors.js";

export const CHECKPOINT_MAGIC = "troupe-checkpoint";
export const CHECKPOINT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const MODEL_FILE = "model.safetensors";
export const OPTIM_FILE = "optim.safetensors";

/** "step": a training position (resume from it); "best": the best evaluation so far. */
export const CHECKPOINT_KINDS = ["step", "best"] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface CheckpointRef {
  readonly run: string;
  readonly stage: string;
  readonly step: number;
  readonly kind: CheckpointKind;
}

export interface CheckpointMeta {
  readonly run: string;
  readonly stage: string;
  readonly step: number;
  readonly kind?: CheckpointKind;
  readonly config: JsonValue;
  readonly state: JsonValue;
  readonly metrics?: Record<string, number>;
}

export interface CheckpointTensors {
  readonly model: Iterable<readonly [string, Tensor]>;
  readonly optim?: Iterable<readonly [string, Tensor]> | null;
  /** Other files stored beside the tensors and listed in the manifest (e.g. tokenizer.json). */
  readonly files?: Iterable<readonly [string, Uint8Array]> | null;
}

export interface FileEntry {
  readonly bytes: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly magic: typeof CHECKPOINT_MAGIC;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly run: string;
  readonly stage: string;
  readonly step: number;
  readonly kind: CheckpointKind;
  readonly createdAt: string;
  readonly files: Record<string, FileEntry>;
  readonly config: JsonValue;
  readonly state: JsonValue;
  readonly metrics: Record<string, number>;
}

export interface EncodedCheckpoint {
  readonly ref: CheckpointRef;
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  /** Data files in write order (the manifest goes last). */
  readonly files: [string, Uint8Array][];
}

export interface Checkpoint {
  readonly ref: CheckpointRef;
  readonly manifest: Manifest;
  readonly model: Map<string, Tensor>;
  readonly optim: Map<string, Tensor> | null;
  /** The other files (verified against the manifest), by name. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Checks run/stage names and the step (they become directory and object names). */
export function checkRef(ref: { run: string; stage: string; step: number; kind?: string }): CheckpointRef {
  if (!NAME.test(ref.run)) throw new ModelConfigError("checkpoint.run", `expected 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(ref.run)}`);
  if (!NAME.test(ref.stage)) throw new ModelConfigError("checkpoint.stage", `expected 1-64 of [A-Za-z0-9_-], got ${JSON.stringify(ref.stage)}`);
  if (!Number.isSafeInteger(ref.step) || ref.step < 0) throw new ModelConfigError("checkpoint.step", `expected a non-negative integer, got ${ref.step}`);
  const kind = ref.kind ?? "step";
  if (!(CHECKPOINT_KINDS as readonly string[]).includes(kind)) throw new ModelConfigError("checkpoint.kind", `expected "step" or "best", got ${JSON.stringify(kind)}`);
  return { run: ref.run, stage: ref.stage, step: ref.step, kind: kind as CheckpointKind };
}

/** "step-00000300" / "best-00000250": the checkpoint's directory or object prefix. */
export function refName(ref: CheckpointRef): string {
  return `${ref.kind}-${String(ref.step).padStart(8, "0")}`;
}

/** The inverse of refName, or null for names that are not checkpoints (temp dirs, files). */
export function parseRefName(run: string, stage: string, name: string): CheckpointRef | null {
  const m = /^(step|best)-(\d{8,})$/.exec(name);
  return m ? { run, stage, step: Number(m[2]), kind: m[1] as CheckpointKind } : null;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Serializes tensors and builds the manifest, synchronously (the tensors may change afterwards). */
export function encodeCheckpoint(meta: CheckpointMeta, tensors: CheckpointTensors): EncodedCheckpoint {
  const ref = checkRef(meta);
  // the model file carries the config too, so it loads on its own (troupe generate FILE)
  const files: [string, Uint8Array][] = [[MODEL_FILE, serializeSafetensors(tensors.model, { format: CHECKPOINT_MAGIC, troupe_config: JSON.stringify(meta.config) })]];
  if (tensors.optim) files.push([OPTIM_FILE, serializeSafetensors(tensors.optim, { format: CHECKPOINT_MAGIC })]);
  for (const [name, bytes] of tensors.files ?? []) {
    if (!FILE_NAME.test(name) || name === MODEL_FILE || name === OPTIM_FILE || name === MANIFEST_FILE || files.some(([n]) => n === name)) {
      throw new ModelConfigError("checkpoint.files", `a checkpoint file may not be named ${JSON.stringify(name)}`);
    }
    files.push([name, Uint8Array.from(bytes)]);
  }
  const manifest: Manifest = {
    magic: CHECKPOINT_MAGIC,
    version: CHECKPOINT_VERSION,
    run: ref.run,
    stage: ref.stage,
    step: ref.step,
    kind: ref.kind,
    createdAt: new Date().toISOString(),
    files: Object.fromEntries(files.map(([n, b]) => [n, { bytes: b.byteLength, sha256: sha256Hex(b) }])),
    config: meta.config,
    state: meta.state,
    metrics: meta.metrics ?? {},
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n");
  return { ref, manifest, manifestBytes, files };
}

/** Parses manifest.json and checks its magic, version and structure. */
export function parseManifest(bytes: Uint8Array, where: string): Manifest {
  const at = { checkpoint: where, file: MANIFEST_FILE };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (err) {
    throw new CheckpointCorruptError(at, `is not valid JSON (${bytes.byteLength} bytes; truncated?)`, { cause: err });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CheckpointFormatError(at, "is not a JSON object");
  if (raw.magic !== CHECKPOINT_MAGIC) {
    throw new CheckpointFormatError(at, `magic is ${JSON.stringify(raw.magic ?? null)}, expected "${CHECKPOINT_MAGIC}": this is not a troupe checkpoint`);
  }
  if (raw.version !== CHECKPOINT_VERSION) {
    const newer = typeof raw.version === "number" && raw.version > CHECKPOINT_VERSION;
    throw new CheckpointFormatError(
      at,
      `format version ${JSON.stringify(raw.version)}, this troupe reads version ${CHECKPOINT_VERSION}; ` +
        (newer ? "upgrade troupe to read it" : "load it with the troupe version that wrote it, or retrain"),
    );
  }
  const files = raw.files as Record<string, FileEntry> | undefined;
  const okFiles = files && typeof files === "object" && MODEL_FILE in files &&
    Object.values(files).every((f) => f && Number.isSafeInteger(f.bytes) && typeof f.sha256 === "string" && /^[0-9a-f]{64}$/.test(f.sha256));
  if (!okFiles) throw new CheckpointFormatError(at, `"files" must list ${MODEL_FILE} (and optionally ${OPTIM_FILE}) with bytes and sha256`);
  for (const k of ["run", "stage", "kind", "createdAt"] as const) {
    if (typeof raw[k] !== "string") throw new CheckpointFormatError(at, `"${k}" must be a string`);
  }
  if (!Number.isSafeInteger(raw.step)) throw new CheckpointFormatError(at, `"step" must be an integer`);
  return { ...(raw as unknown as Manifest), metrics: (raw.metrics ?? {}) as Record<string, number> };
}

/** Checks one file's bytes against the manifest: size first (truncation), then SHA-256. */
export function verifyFile(manifest: Manifest, name: string, bytes: Uint8Array, where: string): void {
  const e = manifest.files[name];
  const at = { checkpoint: where, file: name };
  if (!e) throw new CheckpointFormatError(at, "is not listed in the manifest");
  if (bytes.byteLength !== e.bytes) {
    throw new CheckpointCorruptError(at, `has ${bytes.byteLength} bytes, the manifest says ${e.bytes} (${bytes.byteLength < e.bytes ? "truncated" : "overwritten"})`);
  }
  const got = sha256Hex(bytes);
  if (got !== e.sha256) throw new CheckpointCorruptError(at, `SHA-256 ${got.slice(0, 16)}… does not match the manifest's ${e.sha256.slice(0, 16)}… (the file changed after it was written)`);
}

/** Verifies and parses the data files of a checkpoint whose manifest is known. */
export function decodeCheckpoint(manifest: Manifest, files: ReadonlyMap<string, Uint8Array>, where: string): Checkpoint {
  const tensors = (name: string): Map<string, Tensor> | null => {
    if (!(name in manifest.files)) return null;
    const bytes = files.get(name);
    if (!bytes) throw new CheckpointCorruptError({ checkpoint: where, file: name }, "is missing");
    verifyFile(manifest, name, bytes, where);
    try {
      return parseSafetensors(bytes, `${where}/${name}`).tensors;
    } catch (err) {
      throw new CheckpointFormatError({ checkpoint: where, file: name }, (err as Error).message, { cause: err });
    }
  };
  const extra = new Map<string, Uint8Array>();
  for (const name of Object.keys(manifest.files)) {
    if (name === MODEL_FILE || name === OPTIM_FILE) continue;
    const bytes = files.get(name);
    if (!bytes) throw new CheckpointCorruptError({ checkpoint: where, file: name }, "is missing");
    verifyFile(manifest, name, bytes, where);
    extra.set(name, bytes);
  }
  const ref = { run: manifest.run, stage: manifest.stage, step: manifest.step, kind: manifest.kind };
  return { ref, manifest, model: tensors(MODEL_FILE)!, optim: tensors(OPTIM_FILE), files: extra };
}
