// Public surface of hosts/thunder: data-parallel training across hosts (Thunder-Train): the
// ring all-reduce over links, the group that runs it in a worker thread, and the gradient sync
// the trainer loop takes.
export { Compression, type Ring, type RingOptions, type RingStats, createRing } from "./ring.js";
export { type RingLinks, type RingLinksOptions, connectRing, endpointName } from "./connect.js";
export { type ThunderGroup, type ThunderGroupOptions, openThunderGroup } from "./group.js";
export { type Collective, type GradientSyncOptions, type SyncStats, createGradientSync } from "./gradients.js";
export { type DataParallelAttempt, type DataParallelReport, type DataParallelRunOptions, type GenerationRecord, PeerLossPolicy, runDataParallel } from "./run.js";
