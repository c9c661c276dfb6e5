// Public surface of the actor runtime.
export {
  type ActorContext,
  type ActorDefinition,
  type CallHandler,
  type Handler,
  type HandlerContext,
  type StreamHandler,
  defineActor,
  isActorDefinition,
  on,
  onStream,
} from "./define.js";
export { type BroadcastTarget, type CallOptions, type Peer, type StreamOptions, openPeer } from "./peer.js";
export { type RunningActor, type StartActorOptions, startActor } from "./actor.js";
export {
  type ChildSpec,
  type ChildState,
  type ChildStatus,
  type RestartPolicy,
  type Supervisor,
  type SupervisorOptions,
  defaultHost,
  startSupervisor,
} from "./supervisor.js";
export { type BackoffPolicy, type IntensityPolicy, RestartIntensity, backoffDelay } from "./backoff.js";
export { registerRole, registeredRoles, resolveRole } from "./roles.js";
export { EXIT_CONFIG } from "./ipc.js";
