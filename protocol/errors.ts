// Errors of the protocol layer. Every way a message can fail to decode has its own class and
// `code`, so a receiver can count failures by code and answer a caller with a typed error.
// Nothing here ever crashes a receiver: decoders throw these, mailboxes catch and count them.

export const DecodeErrorCode = {
  /** the bytes are not a well-formed message (truncated, bit-flipped, not msgpack, ...) */
  malformed: "MALFORMED",
  /** the envelope carries a protocol version this build does not speak */
  version: "VERSION",
  /** a tensor's shape does not match its byte length, or the shape itself is invalid */
  shape: "SHAPE",
  /** a tensor names a dtype this build does not know, or a dtype the schema forbids */
  dtype: "DTYPE",
  /** a tensor holds NaN where the schema forbids it */
  nan: "NAN",
  /** the message is larger than the receiver accepts */
  oversize: "OVERSIZE",
  /** the body does not match the schema of its kind */
  schema: "SCHEMA",
  /** the envelope names a kind the receiver has no schema for */
  unknownKind: "UNKNOWN_KIND",
  /** a large-tensor reference could not be resolved or failed its integrity check */
  blob: "BLOB",
} as const;
export type DecodeErrorCode = (typeof DecodeErrorCode)[keyof typeof DecodeErrorCode];

export const ALL_DECODE_ERROR_CODES: readonly DecodeErrorCode[] = Object.values(DecodeErrorCode);

/** Base class of every failure to turn bytes into a valid message. */
export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DecodeError";
    this.code = code;
  }
}

export class MalformedMessageError extends DecodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(DecodeErrorCode.malformed, message, options);
    this.name = "MalformedMessageError";
  }
}

export class VersionMismatchError extends DecodeError {
  readonly got: unknown;
  readonly want: number;
  constructor(got: unknown, want: number) {
    super(
      DecodeErrorCode.version,
      `protocol version ${JSON.stringify(got)} is not supported (this build speaks version ${want}); ` +
        `run the same troupe version on every host`,
    );
    this.name = "VersionMismatchError";
    this.got = got;
    this.want = want;
  }
}

export class ShapeMismatchError extends DecodeError {
  constructor(message: string) {
    super(DecodeErrorCode.shape, message);
    this.name = "ShapeMismatchError";
  }
}

export class DtypeError extends DecodeError {
  constructor(message: string) {
    super(DecodeErrorCode.dtype, message);
    this.name = "DtypeError";
  }
}

export class NaNError extends DecodeError {
  constructor(path: string) {
    super(DecodeErrorCode.nan, `${path} contains NaN, which this message kind forbids`);
    this.name = "NaNError";
  }
}

export class OversizeError extends DecodeError {
  readonly bytes: number;
  readonly limit: number;
  constructor(bytes: number, limit: number) {
    super(DecodeErrorCode.oversize, `message of ${bytes} bytes exceeds the limit of ${limit} bytes`);
    this.name = "OversizeError";
    this.bytes = bytes;
    this.limit = limit;
  }
}

export class SchemaError extends DecodeError {
  readonly path: string;
  constructor(path: string, message: string) {
    super(DecodeErrorCode.schema, `${path}: ${message}`);
    this.name = "SchemaError";
    this.path = path;
  }
}

export class UnknownKindError extends DecodeError {
  readonly kind: string;
  constructor(kind: string) {
    super(DecodeErrorCode.unknownKind, `no schema for message kind ${JSON.stringify(kind)}`);
    this.name = "UnknownKindError";
    this.kind = kind;
  }
}

export class BlobError extends DecodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(DecodeErrorCode.blob, message, options);
    this.name = "BlobError";
  }
}

/** A value that cannot be put on the wire (a bug in the sender, not bad input). */
export class EncodeError extends Error {
  readonly code = "ENCODE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EncodeError";
  }
}

/** An address or subject token that NATS would not route as intended. */
export class AddressError extends Error {
  readonly code = "ADDRESS";
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

export function isDecodeError(err: unknown): err is DecodeError {
  return err instanceof DecodeError;
}
export function isEncodeError(err: unknown): err is EncodeError {
  return err instanceof EncodeError;
}
export function isAddressError(err: unknown): err is AddressError {
  return err instanceof AddressError;
}
export function isVersionMismatchError(err: unknown): err is VersionMismatchError {
  return err instanceof VersionMismatchError;
}
export function isOversizeError(err: unknown): err is OversizeError {
  return err instanceof OversizeError;
}
export function isSchemaError(err: unknown): err is SchemaError {
  return err instanceof SchemaError;
}
