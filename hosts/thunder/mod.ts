// Public surface of hosts/thunder: data-parallel training across hosts (Thunder-Train): the
// ring all-reduce over links and the group that forms it.
export { Compression, type Ring, type RingOptions, type RingStats, createRing } from "./ring.js";
export { type RingLinks, type RingLinksOptions, connectRing, endpointName } from "./connect.js";
