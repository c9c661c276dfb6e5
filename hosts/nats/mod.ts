// Public surface of hosts/nats: the embedded server, connections, and the durable helpers.
export { type NatsServerHandle, type NatsServerOptions, startNatsServer } from "./launcher.js";
export { holdServersOnInterrupt } from "./cleanup.js";
export { type ConnectOptions, type NatsConnection, type NatsSession, type NatsTarget, connectNats, openNats } from "./connect.js";
export { type PublishOnceOptions, deleteRunStreams, ensureStream, publishOnce } from "./jetstream.js";
export {
  type DeadLetter,
  type Job,
  type ProcessOptions,
  type QueueInfo,
  type WorkQueue,
  type WorkQueueOptions,
  JOB_ID_HEADER,
  openWorkQueue,
} from "./workqueue.js";
export type { WorkerHandle } from "./worker.js";
export { type RunState, type RunStateOptions, type RunStateStats, type Versioned, type WatchedEntry, openRunState } from "./kv.js";
export { type Lease, type LeaseKeeper, type LeaseOptions, type LeaseRecord, LeaseRecordSchema, openLease } from "./lease.js";
export { type RetryOptions, isNatsOutage, isTransientNatsError, reconnectSafe } from "./retry.js";
export { NATIVE_SHA256_CHECKED, type Objects, type ObjectsOptions, type StoredObject, installNativeSha256, nativeSha256Fits, objClientVersion, objectBlobStore, openObjects } from "./objects.js";
export { DisconnectedError, type LinkState, linkState, unlessDisconnected } from "./link-state.js";
