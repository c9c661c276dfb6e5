// Benchmarks run by `troupe bench ...`: each reports a ratio against a peer measured in the same run.
export { type ProtocolBenchOptions, type ProtocolBenchReport, benchCalls, benchCodec, nanRefusal, runProtocolBench } from "./protocol.js";
