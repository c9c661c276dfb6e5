// The pool plane's contract: where the published .proto files are, the service's version, the
// error reasons it names, and wire tensors as the proto's Tensor message (a dtype name, a shape
// and little-endian bytes — the same tensor as on every other plane, validated the same way).
// Loading the .proto into a gRPC service is the hosts layer's job (hosts/pools/proto.ts).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DtypeError, ShapeMismatchError } from "./errors.js";
import { isDtype } from "./dtype.js";
import { type WireTensor, checkTensor, wireTensor } from "./tensor.js";

export const POOL_PROTOCOL_VERSION = 1;
export const POOL_PACKAGE = "troupe.pool.v1";
export const POOL_SERVICE = "AcceleratorPool";
/** ErrorInfo.domain of every error the service returns. */
export const POOL_ERROR_DOMAIN = "pool.troupe.dev";

/** ErrorInfo.reason values, with the gRPC status code each goes with (pool.proto's table). */
export const PoolReason = {
  modelNotFound: "MODEL_NOT_FOUND",
  sequenceTooLong: "SEQUENCE_TOO_LONG",
  tooManyRows: "TOO_MANY_ROWS",
  wrongDtype: "WRONG_DTYPE",
  badTensor: "BAD_TENSOR",
  badLengths: "BAD_LENGTHS",
  tokenOutOfRange: "TOKEN_OUT_OF_RANGE",
  layerOutOfRange: "LAYER_OUT_OF_RANGE",
  noOutputs: "NO_OUTPUTS",
  overloaded: "OVERLOADED",
  draining: "DRAINING",
  notReady: "NOT_READY",
  badSource: "BAD_SOURCE",
  loadFailed: "LOAD_FAILED",
  digestMismatch: "DIGEST_MISMATCH",
} as const;
export type PoolReason = (typeof PoolReason)[keyof typeof PoolReason];

/** gRPC status codes by name (the numbers are fixed by gRPC). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCodeName = keyof typeof GrpcCode;

export function grpcCodeName(code: number): GrpcCodeName | `CODE_${number}` {
  const hit = (Object.entries(GrpcCode) as [GrpcCodeName, number][]).find(([, n]) => n === code);
  return hit ? hit[0] : `CODE_${code}`;
}

/** The status code that goes with each reason. */
export const REASON_CODES: Readonly<Record<PoolReason, GrpcCodeName>> = {
  MODEL_NOT_FOUND: "NOT_FOUND",
  SEQUENCE_TOO_LONG: "OUT_OF_RANGE",
  TOO_MANY_ROWS: "OUT_OF_RANGE",
  WRONG_DTYPE: "INVALID_ARGUMENT",
  BAD_TENSOR: "INVALID_ARGUMENT",
  BAD_LENGTHS: "INVALID_ARGUMENT",
  TOKEN_OUT_OF_RANGE: "INVALID_ARGUMENT",
  LAYER_OUT_OF_RANGE: "INVALID_ARGUMENT",
  NO_OUTPUTS: "INVALID_ARGUMENT",
  OVERLOADED: "RESOURCE_EXHAUSTED",
  DRAINING: "UNAVAILABLE",
  NOT_READY: "UNAVAILABLE",
  BAD_SOURCE: "INVALID_ARGUMENT",
  LOAD_FAILED: "FAILED_PRECONDITION",
  DIGEST_MISMATCH: "DATA_LOSS",
};

/** Codes after which the same request may succeed on another worker. */
export const RETRYABLE_CODES: readonly GrpcCodeName[] = ["UNAVAILABLE", "RESOURCE_EXHAUSTED"];

/** The proto's Tensor message as proto-loader hands it out (longs as numbers, bytes as Buffer). */
export interface ProtoTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A wire tensor as the proto's Tensor (no copy of the bytes). */
export function toProtoTensor(t: WireTensor): ProtoTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data };
}

/**
 * A received Tensor as a wire tensor, validated like every decoder validates: a known dtype,
 * a valid shape, and exactly the bytes they need. Throws DtypeError or ShapeMismatchError.
 */
export function fromProtoTensor(p: Partial<ProtoTensor> | null | undefined, what = "tensor"): WireTensor {
  if (!p) throw new ShapeMismatchError(`${what} is missing`);
  const dtype = p.dtype ?? "";
  if (!isDtype(dtype)) throw new DtypeError(`${what} has dtype ${JSON.stringify(dtype)}; expected one of f32 f16 bf16 i8 u8 i32 q8_0 q4_0 tq`);
  const shape = (p.shape ?? []).map(Number);
  const data = p.data ?? new Uint8Array(0);
  try {
    checkTensor(dtype, shape, data.byteLength);
  } catch (err) {
    throw new ShapeMismatchError(`${what}: ${(err as Error).message}`);
  }
  return wireTensor(dtype, shape, data);
}

function protoRoot(): string {
  // this file is <root>/protocol/pool.ts, compiled to <root>/dist/protocol/pool.js
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, "protocol", "pool", "v1", "pool.proto"))) return join(dir, "protocol", "pool");
    dir = dirname(dir);
  }
  throw new Error(`protocol/pool/v1/pool.proto not found above ${dirname(fileURLToPath(import.meta.url))}; is this a complete troupe checkout?`);
}

/** The published .proto files: the service, and google.rpc.Status/ErrorInfo for error details. */
export function poolProtoFiles(): { readonly root: string; readonly service: string; readonly status: string } {
  const root = protoRoot();
  return { root, service: join(root, "v1", "pool.proto"), status: join(root, "google", "rpc", "status.proto") };
}
