// Public surface of hosts/registry: the cluster's host registry in KV, host records and their
// heartbeats, and deciding from the heartbeats one watcher sees which hosts are alive.
export {
  HOST_STATES,
  type Capabilities,
  type HostRecord,
  type HostState,
  type HostedActor,
  type HostedRun,
  type LinkAddress,
  HostRecordSchema,
  HostedActorSchema,
  HostedRunSchema,
  LinkAddressSchema,
  freeCores,
  localCapabilities,
  localLinkAddresses,
  troupeVersion,
} from "./record.js";
export { type HostEntry, type HostRegistry, REGISTRY_BUCKET, REGISTRY_TTL_MS, SHARED_SCOPE, claimHostName, openHostRegistry } from "./registry.js";
export { HOST_STATUSES, type HostStatus, type HostView, type LivenessEvent, type LivenessTable, createLivenessTable } from "./liveness.js";
export { type HostWatchOptions, type HostWatcher, missingReason, watchHosts } from "./watch.js";
export { type Heartbeat, type HeartbeatOptions, startHeartbeat } from "./heartbeat.js";
