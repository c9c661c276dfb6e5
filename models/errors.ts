// Errors of the models layer: model configs, LoRA/DoRA adapters, checkpoints and training.
// Each class carries a stable `code`; callers test with the predicates, never by message.

export const ModelsErrorCode = {
  config: "MODEL_CONFIG",
  adapter: "MODEL_ADAPTER",
  checkpointFormat: "CHECKPOINT_FORMAT",
  checkpointCorrupt: "CHECKPOINT_CORRUPT",
  checkpointNotFound: "CHECKPOINT_NOT_FOUND",
  checkpointMismatch: "CHECKPOINT_MISMATCH",
  nonFinite: "TRAIN_NON_FINITE",
  aborted: "TRAIN_ABORTED",
  file: "MODEL_FILE",
  unknownArch: "MODEL_UNKNOWN_ARCH",
  packet: "PACKET",
  stage: "STAGE_DATA",
  checkpointWrite: "CHECKPOINT_WRITE",
  exportFormat: "EXPORT_FORMAT",
} as const;
export type ModelsErrorCode = (typeof ModelsErrorCode)[keyof typeof ModelsErrorCode];

/** Base class: every error thrown by models/ is a ModelsError. */
export class ModelsError extends Error {
  readonly code: ModelsErrorCode;
  constructor(code: ModelsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModelsError";
    this.code = code;
  }
}

/** A model, LoRA or training option is invalid; `key` names it (`lora.rank`). */
export class ModelConfigError extends ModelsError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.config, `${key}: ${message}`, options);
    this.name = "ModelConfigError";
    this.key = key;
  }
}

/** An adapter file does not fit the model it is loaded onto (different base, targets, format). */
export class AdapterError extends ModelsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.adapter, message, options);
    this.name = "AdapterError";
  }
}

/** Where a checkpoint problem was found: the checkpoint and, when known, the file. */
export interface CheckpointWhere {
  /** A path or an object-store name of the checkpoint. */
  readonly checkpoint: string;
  readonly file?: string;
}

function at(where: CheckpointWhere): string {
  return where.file ? `${where.checkpoint}/${where.file}` : where.checkpoint;
}

/** Magic, version or structure of a checkpoint is not what this troupe reads. */
export class CheckpointFormatError extends ModelsError {
  readonly checkpoint: string;
  readonly file: string | undefined;
  constructor(where: CheckpointWhere, message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.checkpointFormat, `${at(where)}: ${message}`, options);
    this.name = "CheckpointFormatError";
    this.checkpoint = where.checkpoint;
    this.file = where.file;
  }
}

/** A checkpoint file is truncated or its SHA-256 does not match the manifest. */
export class CheckpointCorruptError extends ModelsError {
  readonly checkpoint: string;
  readonly file: string | undefined;
  constructor(where: CheckpointWhere, message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.checkpointCorrupt, `${at(where)}: ${message}`, options);
    this.name = "CheckpointCorruptError";
    this.checkpoint = where.checkpoint;
    this.file = where.file;
  }
}

export class CheckpointNotFoundError extends ModelsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.checkpointNotFound, message, options);
    this.name = "CheckpointNotFoundError";
  }
}

/** A good checkpoint that belongs to a different model or data (config, data fingerprint). */
export class CheckpointMismatchError extends ModelsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.checkpointMismatch, message, options);
    this.name = "CheckpointMismatchError";
  }
}

/** Training produced non-finite losses or gradients too many steps in a row. */
export class NonFiniteLossError extends ModelsError {
  readonly step: number;
  readonly consecutive: number;
  constructor(step: number, consecutive: number) {
    super(ModelsErrorCode.nonFinite, `step ${step}: the loss or the gradient was NaN/Inf ${consecutive} steps in a row; lower the learning rate or check the data`);
    this.name = "NonFiniteLossError";
    this.step = step;
    this.consecutive = consecutive;
  }
}

/** Training stopped because its AbortSignal fired. */
export class TrainingAbortedError extends ModelsError {
  readonly step: number;
  /** the checkpoint written of the last complete step before stopping, when there is a store */
  readonly checkpoint: { readonly run: string; readonly stage: string; readonly step: number; readonly kind: "step" | "best" } | null;
  constructor(step: number, options?: { cause?: unknown; checkpoint?: TrainingAbortedError["checkpoint"] }) {
    super(ModelsErrorCode.aborted, `training aborted at step ${step}`, options);
    this.name = "TrainingAbortedError";
    this.step = step;
    this.checkpoint = options?.checkpoint ?? null;
  }
}

/** Where a model-file problem was found: the file and, when known, the tensor. */
export interface ModelFileWhere {
  readonly file: string;
  readonly tensor?: string;
}

/**
 * A Hugging Face model or adapter directory that cannot be used as it is: a missing tensor, a
 * shape that does not match config.json, a truncated file, an unsupported setting. The message
 * names the file, the tensor and what was expected.
 */
export class ModelFileError extends ModelsError {
  readonly file: string;
  readonly tensor: string | undefined;
  constructor(where: ModelFileWhere, message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.file, `${where.file}${where.tensor ? `: tensor "${where.tensor}"` : ""}: ${message}`, options);
    this.name = "ModelFileError";
    this.file = where.file;
    this.tensor = where.tensor;
  }
}

/** config.json names a model_type troupe has no architecture for. */
export class UnknownArchitectureError extends ModelsError {
  readonly modelType: string;
  constructor(modelType: string, known: readonly string[], where: string) {
    super(ModelsErrorCode.unknownArch, `${where}: unknown model_type ${JSON.stringify(modelType)}; troupe has ${known.map((k) => JSON.stringify(k)).join(", ")}`);
    this.name = "UnknownArchitectureError";
    this.modelType = modelType;
  }
}

export function isModelFileError(err: unknown): err is ModelFileError {
  return err instanceof ModelFileError;
}
export function isUnknownArchitectureError(err: unknown): err is UnknownArchitectureError {
  return err instanceof UnknownArchitectureError;
}

export const PACKET_REASONS = ["magic", "version", "codec", "length", "shape", "checksum", "nonfinite", "adapter", "malformed"] as const;
export type PacketReason = (typeof PACKET_REASONS)[number];

/** A hidden-state packet that cannot be decoded; `reason` says which check failed. */
export class PacketError extends ModelsError {
  readonly reason: PacketReason;
  constructor(reason: PacketReason, message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.packet, `packet: ${message}`, options);
    this.name = "PacketError";
    this.reason = reason;
  }
}

/** A stage task got data it cannot learn from or judge (no labelled tokens, one class only, ...). */
export class StageDataError extends ModelsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.stage, message, options);
    this.name = "StageDataError";
  }
}

export function isPacketError(err: unknown): err is PacketError {
  return err instanceof PacketError;
}
export function isStageDataError(err: unknown): err is StageDataError {
  return err instanceof StageDataError;
}

/**
 * The checkpoint of the last step could not be written (after retries). Training itself is
 * fine: run again with resume and the loop repeats only the steps after the newest good
 * checkpoint. Never report an older checkpoint as the final one instead.
 */
export class CheckpointWriteError extends ModelsError {
  readonly step: number;
  constructor(step: number, tries: number, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(ModelsErrorCode.checkpointWrite, `the final checkpoint (step ${step}) could not be written in ${tries} tries${why}; resume to try again`, options);
    this.name = "CheckpointWriteError";
    this.step = step;
  }
}

export function isModelsError(err: unknown): err is ModelsError {
  return err instanceof ModelsError;
}
export function isModelConfigError(err: unknown): err is ModelConfigError {
  return err instanceof ModelConfigError;
}
export function isAdapterError(err: unknown): err is AdapterError {
  return err instanceof AdapterError;
}
export function isCheckpointFormatError(err: unknown): err is CheckpointFormatError {
  return err instanceof CheckpointFormatError;
}
export function isCheckpointCorruptError(err: unknown): err is CheckpointCorruptError {
  return err instanceof CheckpointCorruptError;
}
export function isCheckpointNotFoundError(err: unknown): err is CheckpointNotFoundError {
  return err instanceof CheckpointNotFoundError;
}
export function isCheckpointMismatchError(err: unknown): err is CheckpointMismatchError {
  return err instanceof CheckpointMismatchError;
}
/** A checkpoint that cannot be used as stored: bad format or corrupt bytes. */
export function isBadCheckpointError(err: unknown): err is CheckpointFormatError | CheckpointCorruptError {
  return err instanceof CheckpointFormatError || err instanceof CheckpointCorruptError;
}
export function isNonFiniteLossError(err: unknown): err is NonFiniteLossError {
  return err instanceof NonFiniteLossError;
}
export function isTrainingAbortedError(err: unknown): err is TrainingAbortedError {
  return err instanceof TrainingAbortedError;
}
export function isCheckpointWriteError(err: unknown): err is CheckpointWriteError {
  return err instanceof CheckpointWriteError;
}

/** A model cannot be written to, or read from, an interchange format (GGUF): says what and why. */
export class ExportFormatError extends ModelsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ModelsErrorCode.exportFormat, message, options);
    this.name = "ExportFormatError";
  }
}
export function isExportFormatError(err: unknown): err is ExportFormatError {
  return err instanceof ExportFormatError;
}
