// Multi-host benchmarks: the all-reduce against a raw link and gloo, and Thunder-Train against
// one host and torch DDP, on the namespace rig.
export { type AllreduceBenchOptions, runAllreduceBench } from "./allreduce.js";
export { type ThunderBenchOptions, runThunderBench } from "./thunder.js";
export { type LinkBenchOptions, LINK_CASES, runLinkBench } from "./link.js";
