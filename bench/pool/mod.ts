// `troupe bench pool` and `troupe chaos pool-failover`: a fleet of pool worker processes on
// this machine, a mixed-length request stream, and what is measured with them.
export { type PoolBenchOptions, type PolicyFigures, runPoolBench } from "./bench.js";
export { type FailoverOptions, runPoolFailover } from "./failover.js";
export { BENCH_BUCKETS, BENCH_GPT, type Fleet, startFleet } from "./fleet.js";
export { type LoadResult, type RequestStream, driveLoad, requestStream } from "./load.js";
