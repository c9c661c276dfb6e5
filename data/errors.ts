// Errors of the data layer. Each class carries a stable `code`; callers test with the
// predicates below, never by matching messages.

/** A data configuration (lanes, pack options, batch sizes) is invalid; `key` names the field. */
export class DataConfigError extends Error {
  readonly code = "DATA_CONFIG";
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(`${key}: ${message}`, options);
    this.name = "DataConfigError";
    this.key = key;
  }
}

/** A record could not be used and the caller asked for strict loading. */
export class DataRecordError extends Error {
  readonly code = "DATA_RECORD";
  /** 1-based line (JSONL) or record number. */
  readonly line: number;
  readonly reason: string;
  constructor(line: number, reason: string, options?: { cause?: unknown; file?: string }) {
    super(`${options?.file ? options.file + ":" : "record "}${line}: ${reason}`, options);
    this.name = "DataRecordError";
    this.line = line;
    this.reason = reason;
  }
}

/** A serialized sampler/RNG state does not fit what it is restored into. */
export class DataStateError extends Error {
  readonly code = "DATA_STATE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DataStateError";
  }
}

/** A data file (text corpus, JSONL) is missing or unreadable, or a corpus is too short for its windows. */
export class CorpusError extends Error {
  readonly code = "DATA_CORPUS";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CorpusError";
  }
}

/** A tokenizer file is missing, malformed or inconsistent (bad JSON, an id out of range, a merge of unknown tokens). */
export class TokenizerError extends Error {
  readonly code = "DATA_TOKENIZER";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TokenizerError";
  }
}

/**
 * A tokenizer.json uses a feature troupe's reader does not implement (a WordPiece model, a
 * normalizer type, a regex construct); `feature` names it, e.g. "model.type=WordPiece".
 */
export class UnsupportedTokenizerError extends Error {
  readonly code = "DATA_TOKENIZER_UNSUPPORTED";
  readonly feature: string;
  constructor(feature: string, message: string, options?: { cause?: unknown }) {
    super(`unsupported tokenizer.json feature ${feature}: ${message}`, options);
    this.name = "UnsupportedTokenizerError";
    this.feature = feature;
  }
}

export type DataError = DataConfigError | DataRecordError | DataStateError | CorpusError | TokenizerError | UnsupportedTokenizerError;

export function isDataConfigError(err: unknown): err is DataConfigError {
  return err instanceof DataConfigError;
}
export function isDataRecordError(err: unknown): err is DataRecordError {
  return err instanceof DataRecordError;
}
export function isDataStateError(err: unknown): err is DataStateError {
  return err instanceof DataStateError;
}
export function isCorpusError(err: unknown): err is CorpusError {
  return err instanceof CorpusError;
}
export function isTokenizerError(err: unknown): err is TokenizerError {
  return err instanceof TokenizerError;
}
export function isUnsupportedTokenizerError(err: unknown): err is UnsupportedTokenizerError {
  return err instanceof UnsupportedTokenizerError;
}
export function isDataError(err: unknown): err is DataError {
  return isDataConfigError(err) || isDataRecordError(err) || isDataStateError(err) || isCorpusError(err) || isTokenizerError(err) || isUnsupportedTokenizerError(err);
}
