// Public surface of the cast's placement on hosts: the spec the owner writes, the director's
// keeper, and the run's cast record.
export { type CastPlacementSpec, type ChildLike, DEFAULT_ACTOR_CORES, HOST_LOSS, type HostLoss, type PlacedActorSpec, type PlacementPlanLike, placementSpecFrom } from "./spec.js";
export { CAST_STOP_KINDS, type CastKeeper, type CastKeeperOptions, type CastStop, type CastStopKind, releasePlacements, startCastKeeper } from "./keeper.js";
export { CAST_EVENT_KINDS, type CastEvent, type CastEventKind, type CastHost, type CastRecord, MAX_CAST_EVENTS, castNotes, emptyCastRecord, withEvent } from "./record.js";
