// Public surface of the hosts layer.
export * from "./errors.js";
export { type ActorLogFields, type Logger, actorLogger, componentLogger, rootLogger } from "./logger.js";
export * from "./nats/mod.js";
export { pause } from "./pause.js";
export { type ObjectCheckpointStoreOptions, objectCheckpointStore } from "./checkpoints.js";
export * from "./rig/mod.js";
export * from "./links/mod.js";
export * from "./thunder/mod.js";
export * from "./registry/mod.js";
export * from "./placement/mod.js";
