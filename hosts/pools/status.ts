// Errors on the pool plane as gRPC statuses with details (the rich error model): the worker
// turns a PoolRejection into its status code plus a google.rpc.Status in the
// grpc-status-details-bin trailer holding one google.rpc.ErrorInfo {reason, domain, metadata};
// the client turns any failed call back into a PoolCallError with the reason and metadata.
import { Metadata, type ServerErrorResponse, type ServiceError } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { GrpcCode, POOL_ERROR_DOMAIN, type PoolReason, REASON_CODES, grpcCodeName, poolProtoFiles } from "../../protocol/mod.js";
import { PoolCallError, PoolRejection } from "../errors.js";

export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
const ERROR_INFO_URL = "type.googleapis.com/google.rpc.ErrorInfo";

let types: { Status: protobuf.Type; ErrorInfo: protobuf.Type } | null = null;
function statusTypes(): { Status: protobuf.Type; ErrorInfo: protobuf.Type } {
  if (!types) {
    const root = protobuf.loadSync(poolProtoFiles().status);
    types = { Status: root.lookupType("google.rpc.Status"), ErrorInfo: root.lookupType("google.rpc.ErrorInfo") };
  }
  return types;
}

/** Bytes of a google.rpc.Status carrying one ErrorInfo. */
export function encodeStatusDetails(code: number, message: string, reason: string, metadata: Readonly<Record<string, string>>): Buffer {
  const { Status, ErrorInfo } = statusTypes();
  const info = ErrorInfo.encode(ErrorInfo.create({ reason, domain: POOL_ERROR_DOMAIN, metadata: { ...metadata } })).finish();
  const status = Status.create({ code, message, details: [{ type_url: ERROR_INFO_URL, value: info }] });
  return Buffer.from(Status.encode(status).finish());
}

export interface StatusDetails {
  readonly code: number;
  readonly message: string;
  readonly reason: string | null;
  readonly domain: string | null;
  readonly metadata: Record<string, string>;
}

/** Reads a grpc-status-details-bin value; null when it is not a google.rpc.Status. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails | null {
  const { Status, ErrorInfo } = statusTypes();
  try {
    const s = Status.toObject(Status.decode(bytes), { defaults: true }) as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
    const any = s.details.find((d) => d.type_url === ERROR_INFO_URL);
    if (!any) return { code: s.code, message: s.message, reason: null, domain: null, metadata: {} };
    const info = ErrorInfo.toObject(ErrorInfo.decode(any.value), { defaults: true }) as { reason: string; domain: string; metadata: Record<string, string> };
    return { code: s.code, message: s.message, reason: info.reason || null, domain: info.domain || null, metadata: info.metadata ?? {} };
  } catch {
    return null;
  }
}

/** A refusal as the error a handler passes to grpc-js. */
export function rejectionStatus(r: PoolRejection): ServerErrorResponse {
  const name = REASON_CODES[r.reason as PoolReason] ?? "INTERNAL";
  const code = GrpcCode[name];
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, r.message, r.reason, r.details));
  return Object.assign(new Error(r.message), { code, details: r.message, metadata });
}

/** Any error a handler caught as a status: refusals keep their reason, the rest is INTERNAL. */
export function toStatus(err: unknown): ServerErrorResponse {
  if (err instanceof PoolRejection) return rejectionStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(GrpcCode.INTERNAL, message, "INTERNAL", {}));
  return Object.assign(new Error(message), { code: GrpcCode.INTERNAL, details: message, metadata });
}

/** A failed call (grpc-js ServiceError) as a PoolCallError with its status details. */
export function callError(err: unknown, worker: string): PoolCallError {
  if (err instanceof PoolCallError) return err;
  const e = err as Partial<ServiceError>;
  const status = typeof e.code === "number" ? grpcCodeName(e.code) : "UNKNOWN";
  const raw = e.metadata?.get(STATUS_DETAILS_KEY)?.[0];
  const details = raw instanceof Uint8Array ? decodeStatusDetails(raw) : null;
  const message = e.details || (err instanceof Error ? err.message : String(err));
  return new PoolCallError({ status, reason: details?.reason ?? null, details: details?.metadata ?? {}, domain: details?.domain ?? null, worker, message }, { cause: err });
}
