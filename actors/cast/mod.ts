// Public surface of the cast runtime: the run's spec and its state in JetStream, the stage
// jobs, the cast's messages, lanes and models as the actors use them, the StageWork the
// director runs, and the owner side (run a scenario, watch it, report it).
export * from "./errors.js";
export {
  AVAILABLE_STAGES,
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_ORACLE_SPEC,
  oracleOf,
  type OracleSpec,
  RUN_SPEC_FORMAT,
  checkRunSpec,
  laneOf,
  runSpecFrom,
  type LaneSpec,
  type LoraSpec,
  type ModelSpecPlan,
  type PretrainSpec,
  type RunPlanLike,
  type RunSpec,
} from "./spec.js";
export { BUCKETS, DIRECTOR_LEASE, OBJECT_BUCKETS, RUN_KEYS, SHARED_RUN, openBucket, openDirectorLease, openRunRecord, type RunKey, type RunRecord } from "./records.js";
export { createKvSnapshotStore, fencedSnapshotStore, takeOverSnapshot, type KvSnapshotStoreOptions } from "./snapshots.js";
export {
  JOB_QUEUE_OPTIONS,
  JOB_STATES,
  cancelFromOwner,
  cancelJob,
  newJobState,
  openJobQueue,
  openJobStates,
  processJobs,
  recordDeadLetter,
  runJob,
  type JobResult,
  type JobState,
  type JobStateName,
  type RunJobOptions,
} from "./jobs.js";
export * from "./messages.js";
export { ensureProgressStream, followProgress, progressPublisher, progressStreamName, progressSubject } from "./progress.js";
export { domainsOf, interleaveDomains, loadLane, withoutPrompts, type LoadedLane } from "./lanes.js";
export { checkpointStores, gptConfig, initialModel, loraConfig, modelCache, refKey, useThreads } from "./models.js";
export { PoolConfigSchema, type PoolRecord, type PoolRoleConfig, type PoolRoleSpec, type RolePool, openRolePool, poolMetricsPublisher, poolModelLoader, startRolePool } from "./pools.js";
export * from "./work/mod.js";
export {
  CAST_ROLES,
  newRunId,
  runCast,
  startCastRun,
  type CastRun,
  type CastRunOptions,
  type CastRunResult,
} from "./owner/run.js";
export type { CastMember, HostInfo, ReportOptions, ReportPaths, ReportWriter } from "./owner/report-input.js";
export { canonicalJson, configDigest } from "./digest.js";
export { ARTIFACTS_FILE, ARTIFACTS_SCHEMA, exportRunArtifacts, type RunArtifact, type RunArtifacts } from "./artifacts.js";
export { watchRun, type WatchOptions, type WatchResult } from "./owner/watch.js";
// curriculum stages 2-6: the oracle's queue and label stream, the head stages' messages and weights
export * from "./agp-messages.js";
export {
  ORACLE_QUEUE_OPTIONS,
  collectLabels,
  ensureLabelStream,
  labelMessages,
  labelStreamName,
  labelSubject,
  openOracleQueue,
  oracleJobId,
  publishLabels,
  readLabels,
  type JoinedLabels,
  type LabelRead,
} from "./labels.js";
export { HEADS_BUCKET, loadWeights, openHeads, saveAdapter, saveHeads, weightsCache, weightsKey, type LoadedWeights } from "./agp-models.js";
