// The pool service as gRPC sees it: protocol/pool/v1/pool.proto loaded with @grpc/proto-loader
// (camelCase fields, enums as their names, 64-bit integers as numbers, defaults filled in), and
// the TypeScript shapes of its messages. Both the worker and the scheduler use these.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { POOL_PACKAGE, POOL_SERVICE, type ProtoTensor, poolProtoFiles } from "../../protocol/mod.js";

export type Tensor = ProtoTensor;

export interface Bucket {
  batch: number;
  seqLen: number;
}

export interface ModelInfo {
  id: string;
  digest: string;
  arch: string;
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  maxSeqLen: number;
}

export interface DescribeReply {
  protocolVersion: number;
  worker: string;
  backend: string;
  model: ModelInfo | null;
  computeDtype: string;
  outputDtypes: string[];
  buckets: Bucket[];
  cores: number;
  maxInFlight: number;
  maxRows: number;
}

export const LOGITS_MODES = ["LOGITS_NONE", "LOGITS_ALL", "LOGITS_LAST"] as const;
export type LogitsMode = (typeof LOGITS_MODES)[number];

export interface Outputs {
  logits: LogitsMode;
  hiddenLayers: number[];
  lens: boolean;
  dtype: string;
}

export interface ForwardRequest {
  modelId: string;
  tokens: Tensor | null;
  lengths: number[];
  outputs: Outputs | null;
  requestId: string;
}

export interface Execution {
  bucket: Bucket | null;
  core: number;
  realTokens: number;
  paddedTokens: number;
  queuedMs: number;
  computeMs: number;
  startedMs: number;
  endedMs: number;
}

export interface ForwardChunk {
  rowStart: number;
  rows: number;
  logits: Tensor | null;
  hidden: Tensor | null;
  lens: Tensor | null;
  execution: Execution | null;
}

export const SERVING_STATES = ["STATE_UNSPECIFIED", "STARTING", "COMPILING", "SERVING", "DRAINING"] as const;
export type ServingState = (typeof SERVING_STATES)[number];

export interface HealthReply {
  state: ServingState;
  ready: boolean;
  modelId: string;
  modelDigest: string;
  inFlight: number;
  busyCores: number;
  compileRemainingMs: number;
  drainRemainingMs: number;
}

export interface DrainRequest {
  deadlineMs: number;
  reason: string;
}

export interface DrainReply {
  held: number;
  deadlineMs: number;
}

export interface ObjectStoreSource {
  natsUrl: string;
  bucket: string;
  prefix: string;
}

export interface LoadRequest {
  modelId: string;
  digest: string;
  path?: string | null;
  objectStore?: ObjectStoreSource | null;
  /** Which of the oneof is set (proto-loader's `oneofs: true`). */
  source?: "path" | "objectStore";
}

export interface LoadReply {
  model: ModelInfo | null;
  alreadyLoaded: boolean;
  compileMs: number;
}

/** Message size limit on both sides; the worker keeps each chunk well under it. */
export const MAX_MESSAGE_BYTES = 64 << 20;
/** A worker cuts a reply into chunks of about this many bytes. */
export const CHUNK_TARGET_BYTES = 4 << 20;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
};

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};

let cached: { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } | null = null;

/** The AcceleratorPool service definition and client constructor (loaded once per process). */
export function poolService(): { service: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (cached) return cached;
  const files = poolProtoFiles();
  const def = protoLoader.loadSync(files.service, { ...LOADER_OPTIONS, includeDirs: [files.root] });
  let node: unknown = grpc.loadPackageDefinition(def);
  for (const part of [...POOL_PACKAGE.split("."), POOL_SERVICE]) node = (node as Record<string, unknown> | undefined)?.[part];
  const Client = node as grpc.ServiceClientConstructor | undefined;
  if (!Client) throw new Error(`${files.service} does not define ${POOL_PACKAGE}.${POOL_SERVICE}`);
  cached = { service: Client.service, Client };
  return cached;
}
