// Public surface of hosts/pools: accelerator pools over gRPC (protocol/pool/v1/pool.proto).
//   worker:      startPoolWorker — the troupe worker (CPU kernels, emulating a compiled pool)
//   client:      workerClient — one worker's calls as promises
//   scheduler:   createPool — packs rows into buckets, spreads them, retries, health-checks
//   conformance: runConformance — checks any worker against the contract
//   processes:   spawnPoolWorker / startLocalPool — worker processes on this machine
export { type Bucket, bucketName, checkBuckets, parseBuckets, planExecutions, smallestFitting, sortBuckets } from "./buckets.js";
export { type WorkerClient, checkAddress, workerClient } from "./client.js";
export type { DescribeReply, ForwardChunk, ForwardRequest, HealthReply, LoadReply, ModelInfo, ObjectStoreSource, ServingState } from "./proto.js";
export { decodeStatusDetails, encodeStatusDetails, STATUS_DETAILS_KEY } from "./status.js";
export { type PoolWorker, type PoolWorkerOptions, startPoolWorker } from "./worker/worker.js";
export type { ModelSource } from "./worker/load.js";
export { type Pool, type PoolModel, type PoolOptions, type PoolRowResult, createPool } from "./scheduler/pool.js";
export { type PoolMetrics, type WorkerMetrics, quantile } from "./scheduler/metrics.js";
export { PACKING_POLICIES, type PackingPolicy, pickRows, seqBucketOf } from "./scheduler/packing.js";
export type { RowOutputs, RowResult } from "./scheduler/rows.js";
export { type LocalPool, type LocalPoolOptions, type SpawnedWorker, spawnPoolWorker, startLocalPool } from "./spawn.js";
export { type WorkerProcessSpec, runWorkerProcess } from "./worker/process.js";
export { type CheckResult, type ConformanceOptions, type ConformanceReport, runConformance } from "./conformance/run.js";
