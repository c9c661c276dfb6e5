// Public surface of the protocol layer: the wire format every plane shares.
export * from "./errors.js";
export { Dtype, DTYPES, MAX_RANK, type DtypeInfo, byteLengthOf, dtypeInfo, isDtype, numel } from "./dtype.js";
export {
  type WireTensor,
  type TypedView,
  assertNoNaN,
  checkTensor,
  fromTyped,
  hasNaN,
  isAligned,
  isWireTensor,
  typedView,
  wireTensor,
} from "./tensor.js";
export { type Infer, type NumberOptions, type Schema, type TensorOptions, t } from "./schema.js";
export { type Envelope, type Stamper, PROTOCOL_VERSION, checkEnvelope, createStamper, newTraceId } from "./envelope.js";
export {
  type BodyOf,
  type EnvelopeOf,
  type MessageDef,
  type MessageRegistry,
  type ReplyOf,
  createRegistry,
  defineMessage,
  parseBody,
} from "./messages.js";
export { type Codec, type CodecOptions, DEFAULT_MAX_MESSAGE_BYTES, TENSOR_EXT, TENSOR_REF_EXT, createCodec } from "./codec.js";
export {
  type BlobStore,
  type OffloadOptions,
  type StoredBlob,
  type TensorRef,
  hasTensorRefs,
  isTensorRef,
  needsOffload,
  offloadTensors,
  resolveTensorRefs,
} from "./blobs.js";
export { type ReceiveCounters, countRejection, createReceiveCounters } from "./counters.js";
export * from "./subjects.js";
export * from "./system.js";
export {
  GrpcCode,
  type GrpcCodeName,
  POOL_ERROR_DOMAIN,
  POOL_PACKAGE,
  POOL_PROTOCOL_VERSION,
  POOL_SERVICE,
  PoolReason,
  type ProtoTensor,
  REASON_CODES,
  RETRYABLE_CODES,
  fromProtoTensor,
  grpcCodeName,
  poolProtoFiles,
  toProtoTensor,
} from "./pool.js";
