export { type AgpBenchOptions, type AgpBenchReport, runAgpBench } from "./run.js";
