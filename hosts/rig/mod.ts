// Public surface of hosts/rig: several hosts on one machine (network namespaces, shaped links,
// CPU sets) for multi-host tests and benchmarks.
export { type Rig, type RigHost, type RigOptions, createRig } from "./rig.js";
export { type SweepReport, RIG_PREFIX, sweepRigs } from "./names.js";
export { canBuildRig, requireRoot } from "./command.js";
export { checkRate, rateBytesPerSecond, tbfArgs } from "./shape.js";
export { type Finished, type Hosts, type HostsOptions, expectOk, finished, openHosts } from "./session.js";
